"""Purchase order admin: list with progress and totals, lines inline, transitions, receiving."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.urls import reverse
from unfold.admin import TabularInline
from unfold.contrib.filters.admin import (
    AutocompleteSelectFilter,
    ChoicesDropdownFilter,
    RangeDateFilter,
    RangeDateTimeFilter,
    RelatedDropdownFilter,
)
from unfold.decorators import action, display
from unfold.enums import ActionVariant

from admin_customisations.actions import detail_from_form_action
from admin_customisations.base import ResponsibleAdminMixin, StockroomModelAdmin
from inventory.admin.filters import YesNoFilter
from inventory.services.common import fmt
from orders.admin.common import OrderReferenceForm
from orders.admin.purchase_actions import (
    PURCHASE_ORDER_ACTIONS,
    RECEIVABLE,
    TRANSITIONS,
    receive_view,
)
from orders.admin.sourcing_inlines import CheckedModelForm
from orders.choices import ORDER_STATUS_COLOURS, PURCHASE_OPEN
from orders.models import PurchaseOrder, PurchaseOrderExtraLine, PurchaseOrderLine
from orders.selectors.common import overdue_q
from orders.selectors.purchase import purchase_order_totals, purchase_orders_with_totals
from orders.services.purchase import (
    default_unit_price,
    purchase_order_create,
    purchase_order_line_check,
)


def money(value, currency) -> str:
    return f"{value:,.2f} {currency}".strip()


class OverdueFilter(YesNoFilter):
    title = "overdue"
    parameter_name = "overdue"

    def condition(self):
        return overdue_q(PURCHASE_OPEN)


# --- lines -----------------------------------------------------------------------------------


class PurchaseOrderLineForm(CheckedModelForm):
    check = staticmethod(purchase_order_line_check)

    class Meta:
        model = PurchaseOrderLine
        fields = "__all__"

    def clean(self):
        data = super().clean()
        supplier_part, quantity = data.get("supplier_part"), data.get("quantity")
        if data.get("unit_price") is None and supplier_part and quantity:
            # the inline's order field holds the parent order (also an unsaved one on "add")
            order = data.get("order") or (self.instance.order if self.instance.order_id else None)
            currency = ""
            if order is not None:
                currency = order.currency or (order.supplier.currency if order.supplier_id else "")
            data["unit_price"] = default_unit_price(supplier_part, quantity, currency)
        return data


class PurchaseOrderLineFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        for form in self.forms:
            if self.can_delete and self._should_delete_form(form) and form.instance.received:
                raise ValidationError(
                    f"{form.instance}: {fmt(form.instance.received)} already received, "
                    "so the line cannot be deleted."
                )


class _OpenOrderInline(TabularInline):
    """Lines can be added, changed and deleted only while the order is open."""

    extra = 0

    def _open(self, obj):
        return obj is None or obj.status in PURCHASE_OPEN

    def has_add_permission(self, request, obj=None):
        return super().has_add_permission(request, obj) and self._open(obj)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._open(obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._open(obj)


class PurchaseOrderLineInline(_OpenOrderInline):
    model = PurchaseOrderLine
    form = PurchaseOrderLineForm
    formset = PurchaseOrderLineFormSet
    fields = ["supplier_part", "quantity", "unit_price", "destination", "reference", "progress"]
    readonly_fields = ["progress"]
    autocomplete_fields = ["supplier_part", "destination"]
    verbose_name_plural = "lines"

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("supplier_part__part", "supplier_part__supplier", "destination")
        )

    @display(description="received (packs)")
    def progress(self, line):
        if line is None or line.pk is None:
            return "–"
        units = line.received * line.supplier_part.pack_quantity
        unit_text = f" ({fmt(units)} units)" if line.supplier_part.pack_quantity != 1 else ""
        return f"{fmt(line.received)} of {fmt(line.quantity)}{unit_text}"


class PurchaseOrderExtraLineInline(_OpenOrderInline):
    model = PurchaseOrderExtraLine
    fields = ["description", "quantity", "price", "reference"]
    verbose_name_plural = "extra lines"


# --- order -----------------------------------------------------------------------------------


ORDER_FIELDS = [
    "description",
    "company_reference",
    "target_date",
    "destination",
    "contact",
    "address",
    "currency",
    "responsible_user",
    "responsible_group",
    "notes",
]


class PurchaseOrderForm(OrderReferenceForm):
    class Meta:
        model = PurchaseOrder
        fields = ["reference", "supplier", *ORDER_FIELDS]


PROGRESS_FIELDS = [
    "status_badge",
    "progress",
    "total_display",
    "overdue_badge",
    "issue_date",
    "complete_date",
    "received_by",
    "created_by",
    "created_at",
]


@admin.register(PurchaseOrder)
class PurchaseOrderAdmin(ResponsibleAdminMixin, StockroomModelAdmin):
    form = PurchaseOrderForm
    list_display = [
        "reference",
        "supplier",
        "status_badge",
        "progress",
        "total_display",
        "target_date",
        "overdue_badge",
    ]
    list_select_related = ["supplier"]
    list_filter = [
        ("status", ChoicesDropdownFilter),
        ("supplier", AutocompleteSelectFilter),
        ("responsible_user", RelatedDropdownFilter),
        ("responsible_group", RelatedDropdownFilter),
        OverdueFilter,
        ("target_date", RangeDateFilter),
        ("issue_date", RangeDateFilter),
        ("created_at", RangeDateTimeFilter),
    ]
    search_fields = ["reference", "description", "company_reference", "supplier__name"]
    search_help_text = "Reference, description, supplier's reference, supplier name"
    autocomplete_fields = [
        "supplier",
        "contact",
        "address",
        "destination",
        "responsible_user",
        "responsible_group",
    ]
    readonly_fields = PROGRESS_FIELDS
    inlines = [PurchaseOrderLineInline, PurchaseOrderExtraLineInline]
    actions = PURCHASE_ORDER_ACTIONS
    actions_detail = [
        "place_detail",
        "hold_detail",
        "complete_detail",
        "cancel_detail",
        "receive_detail",
    ]

    def get_queryset(self, request):
        return purchase_orders_with_totals(super().get_queryset(request))

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [(None, {"fields": ["reference", "supplier", *ORDER_FIELDS]})]
        return [
            (None, {"fields": ["reference", "supplier", *ORDER_FIELDS]}),
            ("Progress", {"fields": PROGRESS_FIELDS}),
        ]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return ["reference", "supplier", *PROGRESS_FIELDS]

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        fields = {f: form.cleaned_data[f] for f in ORDER_FIELDS if f in form.cleaned_data}
        created = purchase_order_create(
            supplier=form.cleaned_data["supplier"],
            user=request.user,
            reference=None if form.reference_auto else form.cleaned_data["reference"],
            **fields,
        )
        obj.pk = created.pk
        obj.__dict__.update(created.__dict__)

    # --- permissions for the actions ---

    def has_place_permission(self, request, obj=None):
        return request.user.has_perm("orders.place_purchaseorder")

    def has_receive_permission(self, request, obj=None):
        return request.user.has_perm("orders.receive_purchaseorder")

    # --- detail actions: the same forms as the changelist actions, for this order ---

    def get_actions_detail(self, request, object_id):
        actions = super().get_actions_detail(request, object_id)
        status = PurchaseOrder.objects.filter(pk=object_id).values_list("status", flat=True).first()
        prefix = f"{self.model._meta.app_label}_{self.model._meta.model_name}_"
        offered = {
            f"{name}_detail" for name, (_, allowed) in TRANSITIONS.items() if status in allowed
        }
        if status in RECEIVABLE:
            offered.add("receive_detail")
        return [a for a in actions if a.action_name.removeprefix(prefix) in offered]

    @action(
        description="Receive stock",
        url_path="receive",
        permissions=["receive"],
        icon="inventory",
        variant=ActionVariant.PRIMARY,
    )
    def receive_detail(self, request, object_id):
        order = self.get_object(request, unquote(object_id))
        if order is None:
            self.message_user(request, "This purchase order no longer exists.", messages.ERROR)
            return HttpResponseRedirect(reverse("admin:orders_purchaseorder_changelist"))
        return receive_view(self, request, order)

    # the list actions' forms and services, for this order (detail_from_form_action)
    place_detail = detail_from_form_action(
        TRANSITIONS["place"][0],
        name="place_detail",
        url_path="place",
        description="Place order",
        icon="send",
    )
    hold_detail = detail_from_form_action(
        TRANSITIONS["hold"][0],
        name="hold_detail",
        url_path="hold",
        description="Put on hold",
        icon="pause",
    )
    complete_detail = detail_from_form_action(
        TRANSITIONS["complete"][0],
        name="complete_detail",
        url_path="complete",
        description="Complete",
        icon="done_all",
    )
    cancel_detail = detail_from_form_action(
        TRANSITIONS["cancel"][0],
        name="cancel_detail",
        url_path="cancel",
        description="Cancel order",
        icon="cancel",
        variant=ActionVariant.DANGER,
    )

    # --- list and page figures (annotations from the selector) ---

    def _figures(self, order) -> dict:
        if not hasattr(order, "line_count"):
            if not hasattr(order, "_figures"):
                order._figures = purchase_order_totals(order)
            return order._figures
        return {
            "line_count": order.line_count,
            "lines_received": order.lines_received,
            "total_price": order.total_price,
            "overdue": order.overdue,
        }

    @display(description="status", ordering="status", label=ORDER_STATUS_COLOURS)
    def status_badge(self, order):
        return order.get_status_display()

    @display(description="lines received")
    def progress(self, order):
        figures = self._figures(order)
        if not figures["line_count"]:
            return "no lines"
        return f"{figures['lines_received']} of {figures['line_count']}"

    @display(description="total", ordering="total_price")
    def total_display(self, order):
        return money(self._figures(order)["total_price"], order.currency)

    @display(description="overdue", label={"overdue": "danger"})
    def overdue_badge(self, order):
        return "overdue" if self._figures(order)["overdue"] else ""
