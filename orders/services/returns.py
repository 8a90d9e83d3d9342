"""Return order (RMA) services: create, lines, transitions, receiving returned stock.

Keyword-only, atomic, locking, ``ValidationError`` with user-readable messages
(changing nothing), history attributed to ``user``. Receiving goes through the
stock service that takes stock back from a customer, then records a "returned
against return order" tracking entry.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from inventory.choices import StockHistoryCode, StockStatus
from inventory.models import StockItem
from inventory.services.common import (
    delete_with_history,
    fmt,
    lock,
    save_with_history,
    to_quantity,
    track_stock,
)
from inventory.services.stock import stock_item_return_from_customer
from orders.choices import RETURN_OPEN, ReturnLineOutcome, ReturnOrderStatus
from orders.models import ReturnOrder, ReturnOrderLine
from orders.services.common import lock_order, order_save_new, order_transition

R = ReturnOrderStatus

ORDER_FIELDS = (
    "description",
    "company_reference",
    "target_date",
    "responsible_user",
    "responsible_group",
    "contact",
    "address",
    "currency",
    "notes",
)
LINE_FIELDS = ("quantity", "outcome", "price", "reference", "notes")
# What may still change on a line after its item was received.
RECEIVED_LINE_FIELDS = {"outcome", "price", "reference", "notes"}


def _check_fields(fields: dict, allowed, what: str) -> None:
    unknown = sorted(set(fields) - set(allowed))
    if unknown:
        raise ValidationError(f"Cannot set {', '.join(unknown)} on a {what}.")


def _check_open(order, doing: str) -> None:
    if order.status not in RETURN_OPEN:
        raise ValidationError(f"{order.reference} is {order.get_status_display()}: {doing}.")


def _check_outcome(outcome) -> ReturnLineOutcome:
    try:
        return ReturnLineOutcome(int(outcome))
    except (TypeError, ValueError):
        raise ValidationError({"outcome": f"'{outcome}' is not a return outcome."}) from None


# ---------------------------------------------------------------- orders


@transaction.atomic
def return_order_create(*, customer, user, reference=None, **fields) -> ReturnOrder:
    """A new PENDING return order for ``customer`` with the given or the next reference (RMA-0001…)."""
    _check_fields(fields, ORDER_FIELDS, "return order")
    if customer is None:
        raise ValidationError({"customer": "Choose a customer."})
    order = ReturnOrder(customer=customer, status=R.PENDING, **fields)
    return order_save_new(order, user=user, reference=reference or None)


@transaction.atomic
def return_order_update(*, order, user, reason="Edited", **fields) -> ReturnOrder:
    """Change header fields (not customer, reference or status); closed orders keep all but notes."""
    _check_fields(fields, ORDER_FIELDS, "return order")
    order = lock_order(ReturnOrder, order.pk, user)
    changed = {k: v for k, v in fields.items() if getattr(order, k) != v}
    if order.status not in RETURN_OPEN and set(changed) - {"notes"}:
        raise ValidationError(
            f"{order.reference} is {order.get_status_display()}: only its notes can be changed."
        )
    for key, value in changed.items():
        setattr(order, key, value)
    order.full_clean()
    save_with_history(order, user=user, reason=reason)
    return order


@transaction.atomic
def return_order_delete(*, order, user) -> None:
    """Delete a return order of which nothing was received yet."""
    order = lock_order(ReturnOrder, order.pk, user)
    if order.lines.filter(received_date__isnull=False).exists():
        raise ValidationError(
            f"{order.reference} has received stock: cancel or complete it instead of deleting it."
        )
    for line in order.lines.all():
        delete_with_history(line, user=user, reason=f"Order {order.reference} deleted")
    delete_with_history(order, user=user, reason="Deleted")


@transaction.atomic
def return_order_issue(*, order, user) -> ReturnOrder:
    """PENDING or ON_HOLD → IN_PROGRESS (sets the issue date the first time)."""
    current = lock_order(ReturnOrder, order.pk, user)
    return order_transition(
        current,
        to=R.IN_PROGRESS,
        allowed_from={R.PENDING, R.ON_HOLD},
        user=user,
        verb="issued",
        issue_date=current.issue_date or timezone.localdate(),
    )


@transaction.atomic
def return_order_hold(*, order, user) -> ReturnOrder:
    """PENDING or IN_PROGRESS → ON_HOLD."""
    return order_transition(
        order, to=R.ON_HOLD, allowed_from={R.PENDING, R.IN_PROGRESS}, user=user, verb="put on hold"
    )


@transaction.atomic
def return_order_cancel(*, order, user) -> ReturnOrder:
    """An open order → CANCELLED (stock already received stays where it was put)."""
    return order_transition(
        order, to=R.CANCELLED, allowed_from=RETURN_OPEN, user=user, verb="cancelled"
    )


@transaction.atomic
def return_order_complete(*, order, user, accept_incomplete=False) -> ReturnOrder:
    """IN_PROGRESS → COMPLETE; refused while lines are not received unless ``accept_incomplete``."""
    order = lock_order(ReturnOrder, order.pk, user)
    if order.status == R.IN_PROGRESS and not accept_incomplete:
        waiting = [
            str(line.item)
            for line in order.lines.filter(received_date__isnull=True)
            .select_related("item__part")
            .order_by("pk")
        ]
        if waiting:
            raise ValidationError(
                f"{order.reference} cannot be completed: not received yet: {', '.join(waiting)} "
                "(receive them, or accept incomplete lines)."
            )
    return order_transition(
        order,
        to=R.COMPLETE,
        allowed_from={R.IN_PROGRESS},
        user=user,
        verb="completed",
        complete_date=timezone.localdate(),
    )


# ---------------------------------------------------------------- lines


def _check_line_item(order, item, quantity, *, exclude_line=None) -> None:
    if item.customer_id is None:
        raise ValidationError({"item": f"{item} is not with a customer."})
    if item.customer_id != order.customer_id:
        raise ValidationError(
            {"item": f"{item} is with {item.customer.name}, not with {order.customer.name}."}
        )
    if quantity > item.quantity:
        raise ValidationError(
            {"quantity": f"{item} has only {fmt(item.quantity)}: cannot return {fmt(quantity)}."}
        )
    if item.is_serialized and quantity != 1:
        raise ValidationError({"quantity": f"{item} is serialized: return exactly 1."})
    elsewhere = (
        ReturnOrderLine.objects.filter(
            item=item, received_date__isnull=True, order__status__in=RETURN_OPEN
        )
        .exclude(order=order)
        .select_related("order")
        .first()
    )
    if elsewhere is not None:
        raise ValidationError(
            {"item": f"{item} is already being returned on {elsewhere.order.reference}."}
        )


@transaction.atomic
def return_order_add_line(
    *,
    order,
    item,
    user,
    quantity=None,
    outcome=ReturnLineOutcome.PENDING,
    price=None,
    reference="",
    notes="",
) -> ReturnOrderLine:
    """Add a stock item the customer has (one line per item; default: all of it)."""
    order = lock_order(ReturnOrder, order.pk, user)
    _check_open(order, "lines can no longer be added")
    if item is None:
        raise ValidationError({"item": "Choose a stock item."})
    item = lock(StockItem, item.pk)
    quantity = item.quantity if quantity is None else to_quantity(quantity)
    _check_line_item(order, item, quantity)
    if order.lines.filter(item=item).exists():
        raise ValidationError({"item": f"{item} is already on {order.reference}."})
    line = ReturnOrderLine(
        order=order,
        item=item,
        quantity=quantity,
        outcome=_check_outcome(outcome),
        price=price,
        reference=reference or "",
        notes=notes or "",
    )
    line.full_clean()
    save_with_history(line, user=user, reason="Line added")
    return line


@transaction.atomic
def return_order_update_line(*, line, user, **fields) -> ReturnOrderLine:
    """Change a line's quantity (until received), outcome, price, reference or notes."""
    _check_fields(fields, LINE_FIELDS, "return order line")
    line = lock(ReturnOrderLine, line.pk)
    order = line.order
    changed = {k: v for k, v in fields.items() if getattr(line, k) != v}
    if order.status not in RETURN_OPEN and changed:
        raise ValidationError(
            f"{order.reference} is {order.get_status_display()}: its lines can no longer change."
        )
    if line.received_date and set(changed) - RECEIVED_LINE_FIELDS:
        raise ValidationError(
            {"quantity": "This line has been received: its quantity can no longer change."}
        )
    if "outcome" in changed:
        changed["outcome"] = _check_outcome(changed["outcome"])
    if "quantity" in changed:
        changed["quantity"] = to_quantity(changed["quantity"])
        _check_line_item(order, line.item, changed["quantity"])
    for key, value in changed.items():
        setattr(line, key, "" if value is None and key in ("reference", "notes") else value)
    if line.received_date:
        # the received item is no longer with the customer: the model's item check no longer applies
        line.clean_fields()
        line.validate_constraints()
    else:
        line.full_clean()
    save_with_history(line, user=user, reason="Line changed")
    return line


@transaction.atomic
def return_order_delete_line(*, line, user) -> None:
    """Delete a line not yet received."""
    line = lock(ReturnOrderLine, line.pk)
    _check_open(line.order, "its lines can no longer be deleted")
    if line.received_date:
        raise ValidationError(
            f"{line.item} was received on {line.received_date:%Y-%m-%d}: the line cannot be deleted."
        )
    delete_with_history(line, user=user, reason="Line deleted")


@transaction.atomic
def return_order_receive_line(
    *, line, location, user, status=StockStatus.QUARANTINED, notes=""
) -> ReturnOrderLine:
    """Take a line's stock back from the customer into ``location`` with ``status``.

    Only for IN_PROGRESS orders and lines not yet received. A partial line
    (quantity below the item's) splits the item first and the line follows the
    returned part. The item's customer and sales order are cleared, a "returned
    against return order" tracking entry written and the received date set.
    """
    line = lock(ReturnOrderLine, line.pk)
    order = lock_order(ReturnOrder, line.order_id, user)
    if line.received_date:
        raise ValidationError(
            f"{line.item} was already received against {order.reference} on "
            f"{line.received_date:%Y-%m-%d}."
        )
    if order.status != R.IN_PROGRESS:
        raise ValidationError(
            f"{order.reference} is {order.get_status_display()}: stock can only be received "
            "against orders in progress."
        )
    try:
        status = StockStatus(int(status))
    except (TypeError, ValueError):
        raise ValidationError({"status": f"'{status}' is not a stock status."}) from None
    if location is None:
        raise ValidationError({"location": "Choose where the returned stock goes."})
    item = lock(StockItem, line.item_id)
    if item.customer_id != order.customer_id:
        where = f"with {item.customer.name}" if item.customer_id else "not with a customer"
        raise ValidationError(
            f"{item} is {where}, not with {order.customer.name}: it cannot be received."
        )
    if line.quantity > item.quantity:
        raise ValidationError(
            f"{item} has only {fmt(item.quantity)}: cannot receive {fmt(line.quantity)}."
        )
    previous_status = item.status
    sales_order = item.sales_order
    # a partial line: the returned part is split off (the line follows it)
    partial = line.quantity if line.quantity < item.quantity else None
    item = stock_item_return_from_customer(
        item=item, location=location, user=user, notes=notes, merge=False, quantity=partial
    )
    if item.pk != line.item_id:
        line.item = item
    item.status = status
    item.sales_order = None
    save_with_history(item, user=user, reason=f"Returned against {order.reference}")
    deltas = {
        "return_order": order.reference,
        "quantity": fmt(item.quantity),
        "status": int(status),
        "previous_status": previous_status,
        "location": location.pk,
        "location_path": location.pathstring,
    }
    if sales_order is not None:
        deltas["sales_order"] = sales_order.reference
    track_stock(
        item,
        StockHistoryCode.RETURNED_AGAINST_RETURN_ORDER,
        user=user,
        notes=notes or f"Returned against {order.reference}",
        deltas=deltas,
    )
    line.received_date = timezone.localdate()
    save_with_history(line, user=user, reason=f"Received into {location.pathstring}")
    return line
