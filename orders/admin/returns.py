"""Return order admin: list with received-line progress, totals and overdue badge; lines
inline (stock items the customer has); actions for every transition and for receiving.
Every write goes through orders.services.returns."""

from django.contrib import admin
from django.db.models import Q
from unfold.admin import TabularInline
from unfold.contrib.filters.admin import (
    AutocompleteSelectFilter,
    ChoicesDropdownFilter,
    RangeDateFilter,
    RelatedDropdownFilter,
)
from unfold.decorators import display

from admin_customisations.base import (
    ResponsibleAdminMixin,
    StockroomModelAdmin,
    admin_change_reason,
)
from admin_customisations.pickers import Picker, narrow_to_picker, register_picker, scope_id
from inventory.admin.filters import YesNoFilter
from orders.admin import returns_actions as ro_actions
from orders.admin.common import OrderReferenceForm
from orders.admin.sales import money
from orders.admin.sales_actions import (
    ServiceInlineForm,
    ServiceInlineFormSet,
    offered_detail_actions,
)
from orders.choices import ORDER_STATUS_COLOURS, RETURN_OPEN
from orders.models import ReturnOrder, ReturnOrderLine
from orders.selectors.common import overdue_q
from orders.selectors.returns import return_orders_with_figures
from orders.services import returns as services


class ReturnOverdueFilter(YesNoFilter):
    title = "overdue"
    parameter_name = "overdue"

    def condition(self):
        return overdue_q(RETURN_OPEN)


class ReturnLineForm(ServiceInlineForm):
    add_service = staticmethod(services.return_order_add_line)
    update_service = staticmethod(services.return_order_update_line)
    delete_service = staticmethod(services.return_order_delete_line)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "quantity" in self.fields:
            self.fields["quantity"].required = False
            self.fields["quantity"].help_text = "Leave empty for the whole item."

    def service_values(self, names) -> dict:
        values = super().service_values(names)
        if values.get("quantity", 0) is None and self.instance.pk is not None:
            values.pop("quantity")  # emptied on an existing line: keep its quantity
        return values


def _return_line_choices(queryset, scope):
    """Stock items the order's customer has (shipped to them or sent), and the items already
    on the order's lines (a received line's item is back with us)."""
    order = ReturnOrder.objects.filter(pk=scope_id(scope)).values_list("pk", "customer_id").first()
    if order is None:
        return queryset.none()
    on_lines = ReturnOrderLine.objects.filter(order_id=order[0]).values("item_id")
    return queryset.filter(Q(customer_id=order[1]) | Q(pk__in=on_lines))


def _return_line_label(item) -> str:
    batch = f" (batch {item.batch})" if item.batch else ""
    return f"{item}{batch}"


RETURN_LINE_PICKER = register_picker(
    Picker(
        name="return_line",
        restrict=_return_line_choices,
        label=_return_line_label,
        refusal="Choose a stock item this order's customer has.",
    )
)


class ReturnOrderLineInline(TabularInline):
    model = ReturnOrderLine
    form = ReturnLineForm
    formset = ServiceInlineFormSet
    fields = ["item", "quantity", "outcome", "price", "reference", "notes", "received_date"]
    readonly_fields = ["received_date"]
    autocomplete_fields = ["item"]
    extra = 0
    verbose_name_plural = "lines"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("item__part", "order")

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        field = formset.form.base_fields.get("item")
        if obj is not None and field is not None:  # a new class per call: safe to narrow
            narrow_to_picker(field, RETURN_LINE_PICKER, ReturnOrderLine, "item", obj.pk)
        return formset

    def _open(self, obj):
        return obj is None or obj.status in RETURN_OPEN

    def has_add_permission(self, request, obj=None):
        return super().has_add_permission(request, obj) and self._open(obj)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._open(obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._open(obj)


ORDER_FIELDS = list(services.ORDER_FIELDS)
PROGRESS_FIELDS = [
    "status_badge",
    "line_progress",
    "total_display",
    "overdue_badge",
    "issue_date",
    "complete_date",
    "created_by",
    "created_at",
]


class ReturnOrderForm(OrderReferenceForm):
    class Meta:
        model = ReturnOrder
        fields = ["reference", "customer", *ORDER_FIELDS]


@admin.register(ReturnOrder)
class ReturnOrderAdmin(ResponsibleAdminMixin, StockroomModelAdmin):
    form = ReturnOrderForm
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
        ReturnOverdueFilter,
        ("target_date", RangeDateFilter),
        ("issue_date", RangeDateFilter),
        ("complete_date", RangeDateFilter),
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
    readonly_fields = PROGRESS_FIELDS
    inlines = [ReturnOrderLineInline]
    actions = ro_actions.RETURN_ORDER_ACTIONS
    actions_detail = ro_actions.RETURN_DETAIL_ACTIONS

    issue = ro_actions.issue
    hold = ro_actions.hold
    complete = ro_actions.complete
    cancel = ro_actions.cancel
    receive = ro_actions.receive

    def get_queryset(self, request):
        return return_orders_with_figures(super().get_queryset(request))

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    def get_fieldsets(self, request, obj=None):
        main = (None, {"fields": ["reference", "customer", *ORDER_FIELDS]})
        if obj is None:
            return [main]
        return [main, ("Progress", {"fields": PROGRESS_FIELDS})]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        locked = [] if obj.status in RETURN_OPEN else [f for f in ORDER_FIELDS if f != "notes"]
        return ["reference", "customer", *locked, *PROGRESS_FIELDS]

    def get_actions_detail(self, request, object_id):
        found = super().get_actions_detail(request, object_id)
        return offered_detail_actions(self, found, object_id, ro_actions.RETURN_DETAIL_OFFERS)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            fields = {f: data[f] for f in form.changed_data if f in ORDER_FIELDS}
            updated = services.return_order_update(
                order=obj, user=request.user, reason=admin_change_reason(form, change), **fields
            )
            obj.__dict__.update(updated.__dict__)
            return
        created = services.return_order_create(
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
        received = obj is not None and obj.lines.filter(received_date__isnull=False).exists()
        return super().has_delete_permission(request, obj) and not received

    def delete_model(self, request, obj):
        services.return_order_delete(order=obj, user=request.user)

    def delete_queryset(self, request, queryset):
        for order in queryset:
            services.return_order_delete(order=order, user=request.user)

    def has_issue_permission(self, request, obj=None):
        return request.user.has_perm("orders.issue_returnorder")

    def has_receive_permission(self, request, obj=None):
        return request.user.has_perm("orders.receive_returnorder")

    @display(description="status", ordering="status", label=ORDER_STATUS_COLOURS)
    def status_badge(self, order):
        return order.get_status_display()

    @display(description="lines received")
    def line_progress(self, order):
        if not order.line_count:
            return "no lines"
        return f"{order.lines_received} of {order.line_count}"

    @display(description="total", ordering="total_price")
    def total_display(self, order):
        return money(order.total_price, order.currency)

    @display(description="overdue", label={"overdue": "danger"})
    def overdue_badge(self, order):
        return "overdue" if order.overdue else ""
