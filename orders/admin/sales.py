"""Sales order admin (list with progress, totals and overdue badge; lines, charges and
shipments on the order's page; actions for every transition, allocation and shipping)
and the shipment admin. Every write goes through orders.services.sales."""

from django import forms
from django.contrib import admin
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html_join
from unfold.admin import TabularInline
from unfold.contrib.filters.admin import (
    AutocompleteSelectFilter,
    ChoicesDropdownFilter,
    RangeDateFilter,
    RelatedDropdownFilter,
)
from unfold.decorators import display

from admin_customisations.actions import dry_run
from admin_customisations.base import (
    ResponsibleAdminMixin,
    StockroomModelAdmin,
    admin_change_reason,
)
from inventory.admin.filters import YesNoFilter
from inventory.services.common import fmt
from orders.admin import sales_actions as so_actions
from orders.admin.common import OrderReferenceForm
from orders.admin.sales_actions import ServiceInlineForm, ServiceInlineFormSet
from orders.choices import ORDER_STATUS_COLOURS, SALES_OPEN
from orders.models import SalesOrder, SalesOrderExtraLine, SalesOrderLine, SalesOrderShipment
from orders.selectors.common import overdue_q
from orders.selectors.sales import (
    order_allocations,
    sales_lines_with_allocation,
    sales_orders_with_figures,
    shipments_with_figures,
)
from orders.services import sales as services


def money(value, currency) -> str:
    return f"{value:,.2f} {currency}".strip()


class SalesOverdueFilter(YesNoFilter):
    title = "overdue"
    parameter_name = "overdue"

    def condition(self):
        return overdue_q(SALES_OPEN)


# ---------------------------------------------------------------- inlines


class SalesLineForm(ServiceInlineForm):
    add_service = staticmethod(services.sales_order_add_line)
    update_service = staticmethod(services.sales_order_update_line)
    delete_service = staticmethod(services.sales_order_delete_line)


class SalesExtraLineForm(ServiceInlineForm):
    add_service = staticmethod(services.sales_order_add_extra_line)
    update_service = staticmethod(services.sales_order_update_extra_line)
    delete_service = staticmethod(services.sales_order_delete_extra_line)


class _OpenOrderInline(TabularInline):
    """Rows can be added, changed and deleted only while the order is open."""

    extra = 0
    formset = ServiceInlineFormSet

    def _open(self, obj):
        return obj is None or obj.status in SALES_OPEN

    def has_add_permission(self, request, obj=None):
        return super().has_add_permission(request, obj) and self._open(obj)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._open(obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._open(obj)


class SalesOrderLineInline(_OpenOrderInline):
    model = SalesOrderLine
    form = SalesLineForm
    fields = [
        "part",
        "quantity",
        "unit_price",
        "reference",
        "notes",
        "allocated",
        "shipped_display",
    ]
    readonly_fields = ["allocated", "shipped_display"]
    autocomplete_fields = ["part"]
    verbose_name_plural = "lines"

    def get_queryset(self, request):
        return sales_lines_with_allocation(super().get_queryset(request).select_related("part"))

    @display(description="allocated")
    def allocated(self, line):
        return fmt(line.allocated) if line and line.pk else "–"

    @display(description="shipped")
    def shipped_display(self, line):
        return fmt(line.shipped) if line and line.pk else "–"


class SalesOrderExtraLineInline(_OpenOrderInline):
    model = SalesOrderExtraLine
    form = SalesExtraLineForm
    fields = ["description", "quantity", "price", "reference"]
    verbose_name = "charge"
    verbose_name_plural = "other charges (shipping, discounts)"


class SalesOrderShipmentInline(TabularInline):
    """Shipments, read-only here: added and shipped with the page's actions."""

    model = SalesOrderShipment
    fields = ["reference", "shipment_date", "tracking_number", "invoice_number", "checked_by"]
    readonly_fields = fields
    extra = 0
    show_change_link = True
    verbose_name_plural = "shipments"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("checked_by", "order")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# ---------------------------------------------------------------- order


ORDER_FIELDS = list(services.ORDER_FIELDS)
PROGRESS_FIELDS = [
    "status_badge",
    "line_progress",
    "total_display",
    "overdue_badge",
    "issue_date",
    "shipment_date",
    "shipped_by",
    "complete_date",
    "created_by",
    "created_at",
]


class SalesOrderForm(OrderReferenceForm):
    class Meta:
        model = SalesOrder
        fields = ["reference", "customer", *ORDER_FIELDS]


@admin.register(SalesOrder)
class SalesOrderAdmin(ResponsibleAdminMixin, StockroomModelAdmin):
    form = SalesOrderForm
    list_display = [
        "reference",
        "customer",
        "status_badge",
        "line_progress",
        "total_display",
        "target_date",
        "overdue_badge",
    ]
    list_select_related = ["customer"]
    list_filter = [
        ("status", ChoicesDropdownFilter),
        ("customer", AutocompleteSelectFilter),
        ("responsible_user", RelatedDropdownFilter),
        ("responsible_group", RelatedDropdownFilter),
        SalesOverdueFilter,
        ("target_date", RangeDateFilter),
        ("issue_date", RangeDateFilter),
        ("shipment_date", RangeDateFilter),
    ]
    search_fields = ["reference", "description", "company_reference", "customer__name"]
    search_help_text = "Reference, description, customer's reference, customer name"
    autocomplete_fields = [
        "customer",
        "contact",
        "address",
        "responsible_user",
        "responsible_group",
    ]
    readonly_fields = [*PROGRESS_FIELDS, "allocation_table"]
    inlines = [SalesOrderLineInline, SalesOrderExtraLineInline, SalesOrderShipmentInline]
    actions = so_actions.SALES_ORDER_ACTIONS
    actions_detail = so_actions.SALES_DETAIL_ACTIONS

    issue = so_actions.issue
    hold = so_actions.hold
    complete = so_actions.complete
    cancel = so_actions.cancel
    allocate = so_actions.allocate
    auto_allocate = so_actions.auto_allocate
    unallocate = so_actions.unallocate
    add_shipment = so_actions.add_shipment
    assign_shipment = so_actions.assign_shipment
    ship = so_actions.ship

    def get_queryset(self, request):
        return sales_orders_with_figures(super().get_queryset(request))

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    def get_fieldsets(self, request, obj=None):
        main = (None, {"fields": ["reference", "customer", *ORDER_FIELDS]})
        if obj is None:
            return [main]
        return [
            main,
            ("Progress", {"fields": PROGRESS_FIELDS}),
            ("Allocated stock", {"fields": ["allocation_table"]}),
        ]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        locked = [] if obj.status in SALES_OPEN else [f for f in ORDER_FIELDS if f != "notes"]
        return ["reference", "customer", *locked, *PROGRESS_FIELDS, "allocation_table"]

    def get_actions_detail(self, request, object_id):
        found = super().get_actions_detail(request, object_id)
        return so_actions.offered_detail_actions(
            self, found, object_id, so_actions.SALES_DETAIL_OFFERS
        )

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            fields = {f: data[f] for f in form.changed_data if f in ORDER_FIELDS}
            updated = services.sales_order_update(
                order=obj, user=request.user, reason=admin_change_reason(form, change), **fields
            )
            obj.__dict__.update(updated.__dict__)
            return
        created = services.sales_order_create(
            customer=data["customer"],
            user=request.user,
            reference=None if form.reference_auto else data["reference"],
            **{f: data[f] for f in ORDER_FIELDS if f in data},
        )
        obj.pk = created.pk
        obj.__dict__.update(created.__dict__)

    def save_formset(self, request, form, formset, change):
        if isinstance(formset, ServiceInlineFormSet):
            formset.save_through_services(request.user)
        else:
            super().save_formset(request, form, formset, change)

    def has_delete_permission(self, request, obj=None):
        shipped = obj is not None and obj.lines.filter(shipped__gt=0).exists()
        return super().has_delete_permission(request, obj) and not shipped

    def delete_model(self, request, obj):
        services.sales_order_delete(order=obj, user=request.user)

    def delete_queryset(self, request, queryset):
        for order in queryset:
            services.sales_order_delete(order=order, user=request.user)

    # --- permissions for the actions ---

    def has_issue_permission(self, request, obj=None):
        return request.user.has_perm("orders.issue_salesorder")

    def has_ship_permission(self, request, obj=None):
        return request.user.has_perm("orders.ship_salesorder")

    # --- figures (annotations from the selector) ---

    @display(description="status", ordering="status", label=ORDER_STATUS_COLOURS)
    def status_badge(self, order):
        return order.get_status_display()

    @display(description="lines shipped")
    def line_progress(self, order):
        if not order.line_count:
            return "no lines"
        return f"{order.lines_shipped} of {order.line_count}"

    @display(description="total", ordering="total_price")
    def total_display(self, order):
        return money(order.total_price, order.currency)

    @display(description="overdue", label={"overdue": "danger"})
    def overdue_badge(self, order):
        return "overdue" if order.overdue else ""

    @display(description="allocations")
    def allocation_table(self, order):
        if order is None or order.pk is None:
            return "–"
        rows = [
            {
                "part": a.line.part,
                "item_url": reverse("admin:inventory_stockitem_change", args=[a.item_id]),
                "item": a.item,
                "location": a.item.location.pathstring if a.item.location_id else "–",
                "quantity": fmt(a.quantity),
                "shipment": a.shipment.reference if a.shipment_id else "–",
                "state": "shipped" if a.shipment_id and a.shipment.is_shipped else "pending",
            }
            for a in order_allocations(order)
        ]
        if not rows:
            return "No stock allocated."
        return render_to_string("orders/allocation_table.html", {"rows": rows})


# ---------------------------------------------------------------- shipments


class ShippedFilter(YesNoFilter):
    title = "shipped"
    parameter_name = "shipped"

    def condition(self):
        return Q(shipment_date__isnull=False)


SHIPMENT_FIELDS = list(services.SHIPMENT_FIELDS)


class ShipmentForm(forms.ModelForm):
    class Meta:
        model = SalesOrderShipment
        fields = ["order", *SHIPMENT_FIELDS]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "reference" in self.fields and self.instance.pk is None:
            self.fields["reference"].required = False
            self.fields["reference"].initial = ""
            self.fields["reference"].help_text = "Leave empty for the next number (1, 2, …)."

    def _post_clean(self):
        # The services validate (shipment_create / shipment_update); see save_model.
        pass

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        fields = {f: data.get(f) for f in SHIPMENT_FIELDS if f in self.fields}
        if self.instance.pk is None:
            if data.get("order") is not None:
                dry_run(
                    self, lambda: services.shipment_create(order=data["order"], user=None, **fields)
                )
        else:
            changed = {f: v for f, v in fields.items() if f in self.changed_data}
            dry_run(
                self,
                lambda: services.shipment_update(shipment=self.instance, user=None, **changed),
            )
        return data


@admin.register(SalesOrderShipment)
class SalesOrderShipmentAdmin(StockroomModelAdmin):
    form = ShipmentForm
    list_display = [
        "shipment_display",
        "customer",
        "state_badge",
        "allocation_count_display",
        "shipment_date",
        "tracking_number",
        "invoice_number",
        "checked_by",
    ]
    list_select_related = ["order__customer", "checked_by"]
    list_filter = [
        ShippedFilter,
        ("shipment_date", RangeDateFilter),
        ("order__status", ChoicesDropdownFilter),
    ]
    search_fields = [
        "order__reference",
        "reference",
        "tracking_number",
        "invoice_number",
        "order__customer__name",
    ]
    search_help_text = "Order reference, shipment, tracking or invoice number, customer name"
    autocomplete_fields = ["order", "checked_by"]
    readonly_fields = ["shipment_date", "allocations"]
    actions_detail = ["ship_this"]
    ship_this = so_actions.ship_this

    def get_queryset(self, request):
        return shipments_with_figures(super().get_queryset(request))

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [(None, {"fields": ["order", *SHIPMENT_FIELDS]})]
        return [
            (None, {"fields": ["order", *SHIPMENT_FIELDS, "shipment_date"]}),
            ("Allocated stock", {"fields": ["allocations"]}),
        ]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        fixed = ["order", "reference"] if obj.is_shipped else ["order"]
        return [*fixed, "shipment_date", "allocations"]

    def get_actions_detail(self, request, object_id):
        found = super().get_actions_detail(request, object_id)
        return so_actions.offered_detail_actions(
            self,
            found,
            object_id,
            {
                "ship_this": lambda s: (
                    not s.is_shipped and s.order.status == so_actions.S.IN_PROGRESS
                )
            },
        )

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        fields = {f: data.get(f) for f in SHIPMENT_FIELDS if f in form.fields}
        if change:
            changed = {f: v for f, v in fields.items() if f in form.changed_data}
            updated = services.shipment_update(shipment=obj, user=request.user, **changed)
        else:
            updated = services.shipment_create(order=data["order"], user=request.user, **fields)
        obj.pk = updated.pk
        obj.__dict__.update(updated.__dict__)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and not (obj and obj.is_shipped)

    def delete_model(self, request, obj):
        services.shipment_delete(shipment=obj, user=request.user)

    def delete_queryset(self, request, queryset):
        for shipment in queryset:
            services.shipment_delete(shipment=shipment, user=request.user)

    def has_ship_permission(self, request, obj=None):
        return request.user.has_perm("orders.ship_salesorder")

    @display(description="shipment", ordering="order__reference")
    def shipment_display(self, shipment):
        return f"{shipment.order.reference} / {shipment.reference}"

    @display(description="customer", ordering="order__customer__name")
    def customer(self, shipment):
        return shipment.order.customer.name

    @display(description="state", label={"shipped": "success", "pending": "info"})
    def state_badge(self, shipment):
        return "shipped" if shipment.is_shipped else "pending"

    @display(description="allocations", ordering="allocation_count")
    def allocation_count_display(self, shipment):
        return f"{shipment.allocation_count} ({fmt(shipment.allocated_quantity)})"

    @display(description="allocated stock")
    def allocations(self, shipment):
        if shipment is None or shipment.pk is None:
            return "–"
        summary = so_actions.allocation_summary(shipment.order, shipment=shipment)
        if not summary["rows"]:
            return "Nothing allocated to this shipment yet."
        return format_html_join(
            "",
            "<div>{} – {} from {} ({}): {}</div>",
            [(r[0], r[3], r[1], r[2], r[5]) for r in summary["rows"]],
        )
