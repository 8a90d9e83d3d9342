"""Return order actions: transitions and receiving, each an intermediate form on the order's
page (see ``orders.admin.sales_actions.detail_action``), plus changelist transitions."""

from django import forms
from django.core.exceptions import ValidationError
from unfold.enums import ActionVariant
from unfold.widgets import UnfoldAdminCheckboxSelectMultipleWidget, UnfoldBooleanSwitchWidget

from admin_customisations.actions import form_action
from inventory.admin.pickers import placeable_location_field
from inventory.choices import StockStatus
from inventory.services.common import fmt
from orders.admin.common import status_message
from orders.admin.sales_actions import BulkConfirmForm, ConfirmForm, OrderActionForm, detail_action
from orders.choices import RETURN_OPEN, ReturnOrderStatus
from orders.services import returns as services

R = ReturnOrderStatus


def line_summary(order):
    lines = order.lines.select_related("item__part", "item__location").order_by("pk")
    return {
        "headers": ["Stock item", "Quantity", "Outcome", "Received"],
        "rows": [
            [
                str(line.item),
                fmt(line.quantity),
                line.get_outcome_display(),
                f"{line.received_date:%Y-%m-%d}" if line.received_date else "not yet",
            ]
            for line in lines
        ],
    }


class IssueForm(ConfirmForm):
    intro = "The return order moves to In progress: returned stock can be received against it."


class HoldForm(ConfirmForm):
    intro = "The return order is put on hold: nothing can be received until it is issued again."


class CancelForm(ConfirmForm):
    intro = "The return order is cancelled. Stock already received stays where it was put."


class CompleteForm(ConfirmForm):
    intro = "Only an order in progress can be completed; refused while lines are not received."
    accept_incomplete = forms.BooleanField(
        required=False,
        label="Accept lines not received",
        help_text="Complete even if some stock never came back.",
    )

    def setup(self):
        self.fields["accept_incomplete"].widget = UnfoldBooleanSwitchWidget()

    def summary(self):
        return line_summary(self.obj)


class ReceiveForm(OrderActionForm):
    intro = (
        "The chosen lines' stock comes back from the customer into the location with the "
        "status below (customer and sales order cleared, tracked as returned against this "
        "order). A line is received once; nothing is received unless every chosen line can be."
    )
    lines = forms.ModelMultipleChoiceField(queryset=None, help_text="Lines not received yet.")
    location = placeable_location_field()
    status = forms.TypedChoiceField(
        choices=StockStatus.choices, coerce=int, initial=StockStatus.QUARANTINED
    )
    notes = forms.CharField(
        required=False, max_length=500, help_text="Recorded in each item's timeline."
    )

    def setup(self):
        field = self.fields["lines"]
        field.queryset = (
            self.obj.lines.filter(received_date__isnull=True)
            .select_related("item__part")
            .order_by("pk")
        )
        field.widget = UnfoldAdminCheckboxSelectMultipleWidget(choices=field.choices)
        if not self.is_bound:
            field.initial = list(field.queryset.values_list("pk", flat=True))

    def summary(self):
        return line_summary(self.obj)


def apply_issue(*, request, obj, data):
    return status_message(services.return_order_issue(order=obj, user=request.user), "issued")


def apply_hold(*, request, obj, data):
    return status_message(services.return_order_hold(order=obj, user=request.user), "put on hold")


def apply_cancel(*, request, obj, data):
    return status_message(services.return_order_cancel(order=obj, user=request.user), "cancelled")


def apply_complete(*, request, obj, data):
    order = services.return_order_complete(
        order=obj, user=request.user, accept_incomplete=data["accept_incomplete"]
    )
    return status_message(order, "completed")


def apply_receive(*, request, obj, data):
    received = []
    for line in data["lines"]:
        try:
            line = services.return_order_receive_line(
                line=line,
                location=data["location"],
                status=data["status"],
                notes=data["notes"],
                user=request.user,
            )
        except ValidationError as error:
            raise ValidationError([f"{line.item}: {m}" for m in error.messages]) from None
        received.append(line)
    return (
        f"Received {len(received)} line{'' if len(received) == 1 else 's'} of {obj.reference} "
        f"into {data['location']} as {StockStatus(data['status']).label}."
    )


issue = detail_action(
    name="issue",
    description="Issue order",
    form_class=IssueForm,
    apply=apply_issue,
    permission="issue",
    icon="send",
    variant=ActionVariant.PRIMARY,
)
hold = detail_action(
    name="hold",
    description="Put on hold",
    form_class=HoldForm,
    apply=apply_hold,
    permission="issue",
    icon="pause",
)
complete = detail_action(
    name="complete",
    description="Complete order",
    form_class=CompleteForm,
    apply=apply_complete,
    permission="issue",
    icon="done_all",
    variant=ActionVariant.SUCCESS,
)
cancel = detail_action(
    name="cancel",
    description="Cancel order",
    form_class=CancelForm,
    apply=apply_cancel,
    permission="issue",
    icon="cancel",
    variant=ActionVariant.DANGER,
)
receive = detail_action(
    name="receive",
    description="Receive returned stock",
    form_class=ReceiveForm,
    apply=apply_receive,
    permission="receive",
    icon="assignment_return",
    variant=ActionVariant.PRIMARY,
)

RETURN_DETAIL_ACTIONS = ["receive", "issue", "hold", "complete", "cancel"]
RETURN_DETAIL_OFFERS = {
    "issue": lambda order: order.status in {R.PENDING, R.ON_HOLD},
    "hold": lambda order: order.status in {R.PENDING, R.IN_PROGRESS},
    "complete": lambda order: order.status == R.IN_PROGRESS,
    "cancel": lambda order: order.status in RETURN_OPEN,
    "receive": lambda order: (
        order.status == R.IN_PROGRESS and order.lines.filter(received_date__isnull=True).exists()
    ),
}


def _bulk(service, verb):
    def apply(*, request, queryset, data):
        done = []
        for order in queryset.order_by("pk"):
            try:
                done.append(service(order=order, user=request.user))
            except ValidationError as error:
                named = order.reference in " ".join(error.messages)
                error.item_prefix = "" if named else f"{order.reference}: "
                raise
        refs = ", ".join(o.reference for o in done[:10]) + (" …" if len(done) > 10 else "")
        return (
            f"{verb.capitalize()} {len(done)} return order{'' if len(done) == 1 else 's'}: {refs}."
        )

    return apply


RETURN_ORDER_ACTIONS = [
    form_action(
        name="issue_orders",
        description="Issue orders",
        form_class=BulkConfirmForm,
        apply=_bulk(services.return_order_issue, "issued"),
        permission="issue",
    ),
    form_action(
        name="hold_orders",
        description="Put orders on hold",
        form_class=BulkConfirmForm,
        apply=_bulk(services.return_order_hold, "put on hold"),
        permission="issue",
    ),
    form_action(
        name="cancel_orders",
        description="Cancel orders",
        form_class=BulkConfirmForm,
        apply=_bulk(services.return_order_cancel, "cancelled"),
        permission="issue",
    ),
]
