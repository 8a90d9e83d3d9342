"""Purchase order services: create, add lines, status transitions, receiving stock.

Rules (R47-R49, R60-R62 of the InvenTree domain reference, and the purchasing issue):

- The supplier must be a company marked as supplier; contact and address must belong to it.
- A line's supplier part must be sold by the order's supplier; quantity (in packs) > 0;
  lines can be added or changed only while the order is open; a line's quantity cannot go
  below what was already received.
- Transitions: place (Pending/On hold → Placed; needs at least one line), hold
  (Pending/Placed → On hold), complete (Placed → Complete; refused while lines are not
  fully received unless ``accept_incomplete``), cancel (any open status → Cancelled).
- Receiving only on a Placed order. Quantity is in packs; stock is created in part units
  (packs × pack quantity), one item per serial when serials are given, at the chosen
  location (default: the line's destination, then the order's), linked to the supplier part
  and the order, with unit purchase price = line unit price ÷ pack quantity in the order's
  currency, and a "Received against purchase order" tracking entry.
- Over-receipt: receiving more than a line's outstanding quantity is refused unless
  ``allow_over_receipt=True`` is passed explicitly.
- When every line is fully received and setting PURCHASE_ORDER_AUTO_COMPLETE is on
  (default), the order completes automatically (received_by = the receiving user).
"""

from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from inventory.choices import StockHistoryCode, StockStatus
from inventory.models import StockItem
from inventory.services.common import (
    check_quantity_fits,
    fmt,
    lock,
    save_with_history,
    to_quantity,
    track_stock,
)
from inventory.services.stock import stock_item_create
from orders.choices import PURCHASE_OPEN, PurchaseOrderStatus
from orders.models import PurchaseOrder, PurchaseOrderLine
from orders.services.common import lock_order, order_save_new, order_transition
from orders.services.companies import related, supplier_part_price

S = PurchaseOrderStatus
PRICE_STEP = Decimal("0.000001")  # StockItem.purchase_price has 6 decimal places


class ReceiptError(ValidationError):
    """A multi-line receipt was refused; ``by_line`` maps each refused line's pk to its error."""

    def __init__(self, by_line: dict, labels: dict):
        self.by_line = by_line
        messages = [
            f"{labels[pk]}: {message}"
            for pk, error in by_line.items()
            for message in error.messages
        ]
        super().__init__(messages)


# --- creating and editing --------------------------------------------------------------------


@transaction.atomic
def purchase_order_create(*, supplier, user, reference=None, **fields) -> PurchaseOrder:
    """A new Pending purchase order with the given or the next free reference.

    ``fields`` are other order fields (description, target_date, contact, address, currency,
    destination, responsible_user, responsible_group, company_reference, notes).
    """
    if "status" in fields:
        raise TypeError("A new purchase order is always Pending; use the transition services.")
    order = PurchaseOrder(supplier=supplier, **fields)
    return order_save_new(order, user=user, reference=reference or None)


def _check_open(order, doing: str):
    if order.status not in PURCHASE_OPEN:
        raise ValidationError(
            f"{order.reference} is {order.get_status_display()}: {doing} only while the order is open."
        )


def purchase_order_line_check(line, *, order=None) -> None:
    """Domain rules of a purchase order line (new or changed), keyed by field.

    Used by ``purchase_order_add_line`` and by the admin's line forms.
    """
    order = order or related(line, "order")
    supplier_part = related(line, "supplier_part")
    errors = {}
    if order is not None and order.pk:
        _check_open(order, "lines can be added or changed")
    if supplier_part is not None and order is not None:
        if supplier_part.supplier_id != order.supplier_id:
            errors["supplier_part"] = (
                f"{supplier_part} is sold by {supplier_part.supplier.name}, "
                f"not by this order's supplier {order.supplier.name}."
            )
        elif not supplier_part.active and line.pk is None:
            errors["supplier_part"] = f"{supplier_part} is inactive: it cannot be ordered."
    if line.quantity is not None:
        if line.quantity <= 0:
            errors["quantity"] = "Quantity must be greater than zero."
        elif line.received and line.quantity < line.received:
            errors["quantity"] = (
                f"{fmt(line.received)} already received: the quantity cannot be less."
            )
        elif supplier_part is not None and supplier_part.part.trackable:
            units = line.quantity * supplier_part.pack_quantity
            if units != int(units):
                errors["quantity"] = (
                    f"'{supplier_part.part}' is trackable: order a whole number of units "
                    f"({fmt(units)} units is not)."
                )
    if line.unit_price is not None and line.unit_price < 0:
        errors["unit_price"] = "The unit price cannot be negative."
    if errors:
        raise ValidationError(errors)


def _to_price(value) -> Decimal | None:
    if value is None or str(value).strip() == "":
        return None
    try:
        price = Decimal(str(value).strip())
    except ArithmeticError:
        raise ValidationError({"unit_price": f"'{value}' is not a price."}) from None
    if not price.is_finite():
        raise ValidationError({"unit_price": f"'{value}' is not a price."})
    return price


def default_unit_price(supplier_part, quantity, currency) -> Decimal | None:
    """The unit price of the price break for ``quantity`` packs among the breaks in ``currency``
    (the order's); None without such a break (no currency conversion is attempted)."""
    return supplier_part_price(supplier_part, quantity, currency or None)


@transaction.atomic
def purchase_order_add_line(
    *,
    order,
    supplier_part,
    quantity,
    user,
    unit_price=None,
    destination=None,
    reference="",
    notes="",
    merge=False,
) -> PurchaseOrderLine:
    """Add ``quantity`` packs of ``supplier_part`` to an open order.

    Without ``unit_price`` the supplier's price break for the quantity is used (when in the
    order's currency). With ``merge`` an existing line for the same supplier part is
    increased instead of adding a line.
    """
    order = lock_order(PurchaseOrder, order.pk, user)
    _check_open(order, "lines can be added")
    quantity = to_quantity(quantity)
    unit_price = _to_price(unit_price)
    line = None
    if merge:
        existing = order.lines.filter(supplier_part=supplier_part).order_by("pk").first()
        if existing is not None:
            line = lock(PurchaseOrderLine, existing.pk)
            line.quantity += quantity
            check_quantity_fits(line.quantity)
            reason = f"Increased by {fmt(quantity)}"
    if line is None:
        line = PurchaseOrderLine(
            order=order,
            supplier_part=supplier_part,
            quantity=quantity,
            unit_price=unit_price,
            destination=destination,
            reference=reference,
            notes=notes,
        )
        reason = "Added to order"
    if line.unit_price is None and unit_price is None:
        line.unit_price = default_unit_price(supplier_part, line.quantity, order.currency)
    purchase_order_line_check(line, order=order)
    line.full_clean()
    save_with_history(line, user=user, reason=reason)
    return line


# --- transitions -----------------------------------------------------------------------------


@transaction.atomic
def purchase_order_place(*, order, user) -> PurchaseOrder:
    """Pending or On hold → Placed (the order goes to the supplier); sets the issue date."""
    order = lock_order(PurchaseOrder, order.pk, user)
    allowed = {S.PENDING, S.ON_HOLD}
    if order.status in allowed and not order.lines.exists():
        raise ValidationError(
            f"{order.reference} has no lines: add what you are ordering before placing it."
        )
    return order_transition(
        order,
        to=S.PLACED,
        allowed_from=allowed,
        user=user,
        verb="placed",
        issue_date=order.issue_date or timezone.localdate(),
    )


@transaction.atomic
def purchase_order_hold(*, order, user) -> PurchaseOrder:
    """Pending or Placed → On hold."""
    return order_transition(
        order, to=S.ON_HOLD, allowed_from={S.PENDING, S.PLACED}, user=user, verb="put on hold"
    )


@transaction.atomic
def purchase_order_cancel(*, order, user) -> PurchaseOrder:
    """Any open status (Pending, Placed, On hold) → Cancelled. Received stock stays."""
    return order_transition(
        order, to=S.CANCELLED, allowed_from=PURCHASE_OPEN, user=user, verb="cancelled"
    )


def _outstanding_lines(order):
    return order.lines.filter(received__lt=F("quantity"))


@transaction.atomic
def purchase_order_complete(*, order, user, accept_incomplete=False) -> PurchaseOrder:
    """Placed → Complete; refused while lines are not fully received, unless ``accept_incomplete``."""
    order = lock_order(PurchaseOrder, order.pk, user)
    if order.status == S.PLACED and not accept_incomplete:
        outstanding = _outstanding_lines(order).count()
        if outstanding:
            lines = "line is" if outstanding == 1 else "lines are"
            raise ValidationError(
                f"{order.reference}: {outstanding} {lines} not fully received. Receive the rest, "
                "or complete it accepting the missing quantities."
            )
    return order_transition(
        order,
        to=S.COMPLETE,
        allowed_from={S.PLACED},
        user=user,
        verb="completed",
        complete_date=timezone.localdate(),
        received_by=order.received_by or (user if getattr(user, "pk", None) else None),
    )


def _auto_complete(order, user) -> None:
    if not getattr(settings, "PURCHASE_ORDER_AUTO_COMPLETE", True):
        return
    if _outstanding_lines(order).exists():
        return
    order_transition(
        order,
        to=S.COMPLETE,
        allowed_from={S.PLACED},
        user=user,
        verb="completed",
        complete_date=timezone.localdate(),
        received_by=user if getattr(user, "pk", None) else None,
    )


# --- receiving -------------------------------------------------------------------------------


def purchase_order_check_receivable(order) -> None:
    """Refuse (ValidationError) unless stock can be received against ``order`` (Placed)."""
    if order.status != S.PLACED:
        raise ValidationError(
            f"{order.reference} is {order.get_status_display()}: "
            "stock can only be received against a placed order."
        )


def _to_status(status) -> StockStatus:
    try:
        return StockStatus(int(status))
    except (TypeError, ValueError):
        raise ValidationError({"status": f"'{status}' is not a stock status."}) from None


def unit_purchase_price(line) -> Decimal | None:
    """Price of one part unit: the line's price per pack ÷ the pack quantity (6 decimals)."""
    if line.unit_price is None:
        return None
    pack = line.supplier_part.pack_quantity
    return (Decimal(line.unit_price) / Decimal(pack)).quantize(PRICE_STEP, rounding=ROUND_HALF_UP)


def _receive(
    *,
    order,
    line,
    quantity,
    location,
    user,
    batch="",
    serials=(),
    status=StockStatus.OK,
    expiry_date=None,
    allow_over_receipt=False,
) -> list[StockItem]:
    """Receive against one line of a locked, placed order (no auto-completion)."""
    line = lock(PurchaseOrderLine, line.pk)
    if line.order_id != order.pk:
        raise ValidationError(f"{line} is not a line of {order.reference}.")
    quantity = to_quantity(quantity)
    outstanding = line.quantity - line.received
    if quantity > outstanding and not allow_over_receipt:
        if outstanding <= 0:
            detail = f"all {fmt(line.quantity)} already received"
        else:
            detail = f"only {fmt(outstanding)} of {fmt(line.quantity)} outstanding"
        raise ValidationError(
            {
                "quantity": f"Cannot receive {fmt(quantity)}: {detail}. "
                "Receiving more than ordered must be allowed explicitly."
            }
        )
    location = location or line.destination or order.destination
    if location is None:
        raise ValidationError(
            {"location": "Choose a location to receive into (the line and order have no default)."}
        )
    status = _to_status(status)
    supplier_part = line.supplier_part
    units = quantity * supplier_part.pack_quantity
    check_quantity_fits(units)
    if isinstance(serials, str):
        serials = serials.strip()
    else:
        serials = [str(s).strip() for s in serials or () if str(s).strip()]
    items = stock_item_create(
        part=supplier_part.part,
        quantity=units,
        user=user,
        location=location,
        serials=serials,
        batch=batch or "",
        status=status,
        expiry_date=expiry_date,
        purchase_price=unit_purchase_price(line),
        purchase_price_currency=order.currency if line.unit_price is not None else "",
    )
    note = f"Received against {order.reference}"
    for item in items:
        item.supplier_part = supplier_part
        item.purchase_order = order
        save_with_history(item, user=user, reason=note)
        track_stock(
            item,
            StockHistoryCode.RECEIVED_AGAINST_PURCHASE_ORDER,
            user=user,
            notes=note,
            deltas={
                "quantity": fmt(item.quantity),
                "location": location.pk,
                "location_path": location.pathstring,
                "purchase_order": order.reference,
                "supplier_part": supplier_part.sku,
            },
        )
    line.received += quantity
    save_with_history(line, user=user, reason=f"Received {fmt(quantity)}")
    return items


@transaction.atomic
def purchase_order_receive_line(
    *,
    line,
    quantity,
    location,
    user,
    batch="",
    serials=(),
    status=StockStatus.OK,
    expiry_date=None,
    allow_over_receipt=False,
) -> list[StockItem]:
    """Receive ``quantity`` packs of one line into stock; returns the created stock items.

    ``location`` None means the line's destination, then the order's. ``serials`` is a
    serial expression ("1-10, 15") or a list of serials, one item per serial.
    """
    order = lock_order(PurchaseOrder, line.order_id, user)
    purchase_order_check_receivable(order)
    items = _receive(
        order=order,
        line=line,
        quantity=quantity,
        location=location,
        user=user,
        batch=batch,
        serials=serials,
        status=status,
        expiry_date=expiry_date,
        allow_over_receipt=allow_over_receipt,
    )
    _auto_complete(order, user)
    return items


def _is_zero(quantity) -> bool:
    if quantity is None or str(quantity).strip() == "":
        return True
    try:
        return Decimal(str(quantity).strip()) == 0
    except ArithmeticError:
        return False  # not a number: the line's receipt refuses it


RECEIPT_KEYS = {
    "line",
    "quantity",
    "location",
    "batch",
    "serials",
    "status",
    "expiry_date",
    "allow_over_receipt",
}


@transaction.atomic
def purchase_order_receive_lines(
    *, order, receipts: Iterable[Mapping], user, allow_over_receipt=False
) -> list[StockItem]:
    """Receive several lines of one order at once: all or nothing.

    Each receipt is a mapping with ``line`` and ``quantity`` (packs) and optionally
    ``location``, ``batch``, ``serials``, ``status``, ``expiry_date``,
    ``allow_over_receipt`` (as for ``purchase_order_receive_line``). Receipts with an
    empty or zero quantity are skipped. If any line is refused, nothing is received and
    a ``ReceiptError`` (a ValidationError) names every refused line (``by_line``).
    """
    order = lock_order(PurchaseOrder, order.pk, user)
    purchase_order_check_receivable(order)
    wanted = []
    for receipt in receipts:
        unknown = set(receipt) - RECEIPT_KEYS
        if unknown:
            raise TypeError(f"Unknown receipt keys: {', '.join(sorted(unknown))}")
        if _is_zero(receipt.get("quantity")):
            continue
        wanted.append(receipt)
    if not wanted:
        raise ValidationError("Enter a quantity to receive for at least one line.")
    errors, labels, items = {}, {}, []
    for receipt in wanted:
        line = receipt["line"]
        labels[line.pk] = str(line)
        options = {"allow_over_receipt": allow_over_receipt, **receipt}
        options.setdefault("location", None)
        try:
            with transaction.atomic():
                items.extend(_receive(order=order, user=user, **options))
        except ValidationError as error:
            errors[line.pk] = error
    if errors:
        raise ReceiptError(errors, labels)
    _auto_complete(order, user)
    return items
