"""Purchase order actions: one intermediate form per transition, and the receiving form.

Each action works from the changelist (selected orders) and from an order's page (buttons
at the top). Refusals are shown on the form and change nothing.
"""

from django import forms
from django.contrib import messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from unfold.widgets import UnfoldAdminSingleDateWidget, UnfoldBooleanSwitchWidget

from admin_customisations.actions import ActionForm, add_service_error, form_action
from admin_customisations.jobs.bulk import Skip
from inventory.admin.pickers import placeable_location_field
from inventory.choices import StockStatus
from inventory.services.common import fmt
from orders.choices import PurchaseOrderStatus
from orders.models import PurchaseOrderLine
from orders.selectors.purchase import open_purchase_order_lines
from orders.services import purchase as services
from orders.services.common import may_change_order

S = PurchaseOrderStatus


class ConfirmForm(ActionForm):
    """A transition needs no input: the page lists the orders and asks for confirmation."""


class CompleteForm(ActionForm):
    accept_incomplete = forms.BooleanField(
        required=False,
        label="Accept missing quantities",
        help_text="Complete even if some lines are not fully received.",
        widget=UnfoldBooleanSwitchWidget,
    )


def _transition(service, already: set, verb: str):
    """A per-order step: skip orders already in the target state, else call the service."""

    def each(order, *, user, data):
        if order.status in already:
            raise Skip(f"{order.reference} is already {order.get_status_display()}.")
        if not may_change_order(order, user):
            raise ValidationError(f"{order.reference}: you may not change this order.")
        service(order=order, user=user, **data)

    each.__name__ = f"{verb}_each"
    return each


def _orders(verb):
    return lambda n, data: f"{verb.capitalize()} {n} purchase order{'' if n == 1 else 's'}."


def receive_outstanding_each(order, *, user, data):
    """Receive every open line's outstanding packs into the line's (or order's) destination."""
    lines = list(open_purchase_order_lines(order).select_related("supplier_part__part"))
    if not lines:
        raise Skip(f"{order.reference} has nothing outstanding.")
    if not may_change_order(order, user):
        raise ValidationError(f"{order.reference}: you may not change this order.")
    try:
        services.purchase_order_receive_lines(
            order=order,
            receipts=[{"line": line, "quantity": line.outstanding_packs} for line in lines],
            user=user,
        )
    except ValidationError as error:
        raise ValidationError(f"{order.reference}: {' '.join(error.messages)}") from None


place_orders = form_action(
    name="place_orders",
    description="Place orders",
    form_class=ConfirmForm,
    each=_transition(services.purchase_order_place, {S.PLACED}, "place"),
    summary=_orders("placed"),
    permission="place",
)
hold_orders = form_action(
    name="hold_orders",
    description="Put orders on hold",
    form_class=ConfirmForm,
    each=_transition(services.purchase_order_hold, {S.ON_HOLD}, "hold"),
    summary=_orders("put on hold"),
    permission="place",
)
complete_orders = form_action(
    name="complete_orders",
    description="Complete orders",
    form_class=CompleteForm,
    each=_transition(services.purchase_order_complete, {S.COMPLETE}, "complete"),
    summary=_orders("completed"),
    permission="place",
)
cancel_orders = form_action(
    name="cancel_orders",
    description="Cancel orders",
    form_class=ConfirmForm,
    each=_transition(services.purchase_order_cancel, {S.CANCELLED}, "cancel"),
    summary=_orders("cancelled"),
    permission="place",
)
receive_outstanding = form_action(
    name="receive_outstanding",
    description="Receive everything outstanding",
    form_class=ConfirmForm,
    each=receive_outstanding_each,
    summary=_orders("received"),
    permission="receive",
)

# Which statuses each transition starts from (to offer only the buttons that apply).
TRANSITIONS = {
    "place": (place_orders, {S.PENDING, S.ON_HOLD}),
    "hold": (hold_orders, {S.PENDING, S.PLACED}),
    "complete": (complete_orders, {S.PLACED}),
    "cancel": (cancel_orders, {S.PENDING, S.PLACED, S.ON_HOLD}),
}
RECEIVABLE = {S.PLACED}


# --- receiving -------------------------------------------------------------------------------

LINE_FIELDS = ["quantity", "location", "batch", "serials", "status", "expiry_date"]


class ReceiveFormBase(ActionForm):
    """One row of fields per open line; built by ``receive_form``."""

    allow_over_receipt = forms.BooleanField(
        required=False,
        label="Allow receiving more than ordered",
        help_text="Without this, a quantity above a line's outstanding packs is refused.",
        widget=UnfoldBooleanSwitchWidget,
    )

    order = None
    lines: list = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.line_errors = {line.pk: [] for line in self.lines}

    @staticmethod
    def name(line, field) -> str:
        return f"line-{line.pk}-{field}"

    def rows(self):
        return [
            {
                "line": line,
                "outstanding": fmt(line.outstanding_packs),
                "ordered": fmt(line.quantity),
                "units": fmt(line.outstanding_packs * line.supplier_part.pack_quantity),
                "fields": [self[self.name(line, f)] for f in LINE_FIELDS],
                "errors": self.line_errors.get(line.pk, []),
            }
            for line in self.lines
        ]

    def receipts(self) -> list[dict]:
        data = self.cleaned_data
        return [
            {
                "line": line,
                "quantity": data[self.name(line, "quantity")],
                "location": data[self.name(line, "location")],
                "batch": data[self.name(line, "batch")],
                "serials": data[self.name(line, "serials")],
                "status": data[self.name(line, "status")],
                "expiry_date": data[self.name(line, "expiry_date")],
            }
            for line in self.lines
        ]

    def add_receipt_error(self, error: ValidationError) -> None:
        """Show each refused line's messages on that line's fields (or its row)."""
        by_line = getattr(error, "by_line", None)
        if not by_line:
            add_service_error(self, error)
            return
        for pk, line_error in by_line.items():
            line = next((ln for ln in self.lines if ln.pk == pk), None)
            if hasattr(line_error, "error_dict"):
                for field, messages_ in line_error.message_dict.items():
                    name = self.name(line, field) if line is not None else None
                    for message in messages_:
                        if name in self.fields:
                            self.add_error(name, message)
                        else:
                            self._line_error(pk, message)
            else:
                for message in line_error.messages:
                    self._line_error(pk, message)

    def _line_error(self, pk, message):
        if pk in self.line_errors:
            self.line_errors[pk].append(message)
        else:
            self.add_error(None, message)

    def has_line_errors(self) -> bool:
        return any(self.line_errors.values())


def receive_form(order, lines):
    """The receiving form class for ``order``'s open ``lines`` (defaults: all outstanding)."""
    fields = {"order": order, "lines": lines}
    for line in lines:
        fields[ReceiveFormBase.name(line, "quantity")] = forms.DecimalField(
            max_digits=15,
            decimal_places=5,
            min_value=0,
            required=False,
            initial=fmt(line.outstanding_packs),  # "3", not "3.00000" from PostgreSQL
            label="Packs",
        )
        fields[ReceiveFormBase.name(line, "location")] = placeable_location_field(
            source=(PurchaseOrderLine, "destination"),
            required=False,
            initial=line.destination_id or order.destination_id,
            label="Location",
        )
        fields[ReceiveFormBase.name(line, "batch")] = forms.CharField(
            max_length=100, required=False, label="Batch"
        )
        fields[ReceiveFormBase.name(line, "serials")] = forms.CharField(
            max_length=5000, required=False, label="Serials"
        )
        fields[ReceiveFormBase.name(line, "status")] = forms.TypedChoiceField(
            choices=StockStatus.choices, coerce=int, initial=StockStatus.OK, label="Status"
        )
        fields[ReceiveFormBase.name(line, "expiry_date")] = forms.DateField(
            required=False, widget=UnfoldAdminSingleDateWidget, label="Expiry"
        )
    return type("ReceiveForm", (ReceiveFormBase,), fields)


def receive_view(modeladmin, request, order, *, action_name=None):
    """The receiving page of one order: GET shows it, POST with ``apply`` receives."""
    if not may_change_order(order, request.user):
        raise PermissionDenied
    change_url = reverse("admin:orders_purchaseorder_change", args=[order.pk])
    try:
        services.purchase_order_check_receivable(order)
    except ValidationError as error:
        modeladmin.message_user(request, " ".join(error.messages), messages.ERROR)
        return HttpResponseRedirect(change_url)
    lines = list(open_purchase_order_lines(order))
    if not lines:
        modeladmin.message_user(
            request, f"Every line of {order.reference} is fully received.", messages.WARNING
        )
        return HttpResponseRedirect(change_url)
    submitted = "apply" in request.POST
    form = receive_form(order, lines)(request.POST if submitted else None)
    if submitted and form.is_valid():
        try:
            items = services.purchase_order_receive_lines(
                order=order,
                receipts=form.receipts(),
                user=request.user,
                allow_over_receipt=form.cleaned_data["allow_over_receipt"],
            )
        except ValidationError as error:
            form.add_receipt_error(error)
        else:
            order.refresh_from_db()
            done = " The order is complete." if order.status == S.COMPLETE else ""
            modeladmin.message_user(
                request,
                f"Received {len(items)} stock item{'' if len(items) == 1 else 's'} "
                f"against {order.reference}.{done}",
                messages.SUCCESS,
            )
            return HttpResponseRedirect(change_url)
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": f"Receive stock against {order.reference}",
        "subtitle": None,
        "opts": modeladmin.model._meta,
        "order": order,
        "form": form,
        "rows": form.rows(),
        "change_url": change_url,
        "action_name": action_name,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "media": modeladmin.media + form.media,
    }
    return TemplateResponse(request, "orders/purchase_receive.html", context)


def receive_order(modeladmin, request, queryset):
    """Changelist action: receive against one selected order (opens its receiving form)."""
    if queryset.count() != 1:
        modeladmin.message_user(
            request, "Select exactly one purchase order to receive against.", messages.ERROR
        )
        return None
    return receive_view(modeladmin, request, queryset.get(), action_name="receive_order")


receive_order.short_description = "Receive stock"
receive_order.allowed_permissions = ["receive"]

PURCHASE_ORDER_ACTIONS = [
    place_orders,
    hold_orders,
    complete_orders,
    cancel_orders,
    receive_order,
    receive_outstanding,
]
