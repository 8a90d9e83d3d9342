"""Sales order services: create, lines, transitions, allocation, shipments, completion.

Every function is keyword-only and atomic, re-reads the rows it changes under a
row lock, raises ``ValidationError`` with a message a back-office user
understands (changing nothing), and attributes history to ``user``.
Shipping goes through the stock services (split + assign to customer) and
records a "shipped against sales order" tracking entry on each shipped item.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone

from inventory.allocations import allocated_by_item
from inventory.choices import StockHistoryCode
from inventory.models import StockItem
from inventory.services.common import (
    delete_with_history,
    fmt,
    lock,
    save_with_history,
    to_quantity,
    track_stock,
)
from inventory.services.stock import stock_item_assign_to_customer
from orders.choices import SALES_OPEN, SalesOrderStatus
from orders.models import (
    SalesOrder,
    SalesOrderAllocation,
    SalesOrderExtraLine,
    SalesOrderLine,
    SalesOrderShipment,
)
from orders.services.common import lock_order, order_save_new, order_transition

S = SalesOrderStatus

# Header fields set at creation or edited later (status only changes through transitions).
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
LINE_FIELDS = ("part", "quantity", "unit_price", "reference", "notes")
EXTRA_LINE_FIELDS = ("description", "quantity", "price", "reference")
SHIPMENT_FIELDS = ("reference", "tracking_number", "invoice_number", "checked_by", "notes")


def _check_fields(fields: dict, allowed, what: str) -> None:
    unknown = sorted(set(fields) - set(allowed))
    if unknown:
        raise ValidationError(f"Cannot set {', '.join(unknown)} on a {what}.")


def _check_open(order, doing: str) -> None:
    if order.status not in SALES_OPEN:
        raise ValidationError(f"{order.reference} is {order.get_status_display()}: {doing}.")


def unshipped_allocations():
    """Allocations whose stock has not left yet (no shipment, or a shipment still pending)."""
    return SalesOrderAllocation.objects.filter(
        Q(shipment__isnull=True) | Q(shipment__shipment_date__isnull=True)
    )


def _line_allocated(line) -> Decimal:
    total = unshipped_allocations().filter(line=line).aggregate(t=Sum("quantity"))["t"]
    return total or Decimal(0)


# ---------------------------------------------------------------- orders


@transaction.atomic
def sales_order_create(*, customer, user, reference=None, **fields) -> SalesOrder:
    """A new PENDING order for ``customer`` with the given or the next reference (SO-0001…)."""
    _check_fields(fields, ORDER_FIELDS, "sales order")
    if customer is None:
        raise ValidationError({"customer": "Choose a customer."})
    order = SalesOrder(customer=customer, status=S.PENDING, **fields)
    return order_save_new(order, user=user, reference=reference or None)


@transaction.atomic
def sales_order_update(*, order, user, reason="Edited", **fields) -> SalesOrder:
    """Change header fields (not customer, reference or status); closed orders keep all but notes."""
    _check_fields(fields, ORDER_FIELDS, "sales order")
    order = lock_order(SalesOrder, order.pk, user)
    changed = {k: v for k, v in fields.items() if getattr(order, k) != v}
    if order.status not in SALES_OPEN and set(changed) - {"notes"}:
        raise ValidationError(
            f"{order.reference} is {order.get_status_display()}: only its notes can be changed."
        )
    for key, value in changed.items():
        setattr(order, key, value)
    order.full_clean()
    save_with_history(order, user=user, reason=reason)
    return order


@transaction.atomic
def sales_order_delete(*, order, user) -> None:
    """Delete an order from which nothing has shipped (its allocations go with it)."""
    order = lock_order(SalesOrder, order.pk, user)
    if order.lines.filter(shipped__gt=0).exists():
        raise ValidationError(
            f"{order.reference} has shipped stock: cancel it instead of deleting it."
        )
    for allocation in SalesOrderAllocation.objects.filter(line__order=order):
        delete_with_history(allocation, user=user, reason=f"Order {order.reference} deleted")
    delete_with_history(order, user=user, reason="Deleted")


@transaction.atomic
def sales_order_issue(*, order, user) -> SalesOrder:
    """PENDING or ON_HOLD → IN_PROGRESS (sets the issue date the first time)."""
    current = lock_order(SalesOrder, order.pk, user)
    return order_transition(
        current,
        to=S.IN_PROGRESS,
        allowed_from={S.PENDING, S.ON_HOLD},
        user=user,
        verb="issued",
        issue_date=current.issue_date or timezone.localdate(),
    )


@transaction.atomic
def sales_order_hold(*, order, user) -> SalesOrder:
    """PENDING or IN_PROGRESS → ON_HOLD."""
    return order_transition(
        order, to=S.ON_HOLD, allowed_from={S.PENDING, S.IN_PROGRESS}, user=user, verb="put on hold"
    )


@transaction.atomic
def sales_order_cancel(*, order, user) -> SalesOrder:
    """An open order → CANCELLED; its unshipped allocations are deleted (the stock is free again).

    Allocations already shipped stay as the record of what left.
    """
    order = order_transition(
        order, to=S.CANCELLED, allowed_from=SALES_OPEN, user=user, verb="cancelled"
    )
    for allocation in unshipped_allocations().filter(line__order=order).order_by("pk"):
        delete_with_history(allocation, user=user, reason=f"Order {order.reference} cancelled")
    return order


@transaction.atomic
def sales_order_complete(*, order, user, accept_incomplete=False) -> SalesOrder:
    """IN_PROGRESS → SHIPPED (COMPLETE with SALES_ORDER_SHIP_COMPLETE), or SHIPPED → COMPLETE.

    Refused while a shipment is pending, an allocation is unshipped, or (unless
    ``accept_incomplete``) a line has shipped less than its quantity.
    """
    order = lock_order(SalesOrder, order.pk, user)
    allowed = {S.IN_PROGRESS, S.SHIPPED}
    if order.status in allowed:
        problems = []
        pending = list(
            order.shipments.filter(shipment_date__isnull=True).values_list("reference", flat=True)
        )
        if pending:
            problems.append(
                f"shipment {', '.join(pending)} {'is' if len(pending) == 1 else 'are'} not shipped yet "
                "(ship or delete it)"
            )
        unshipped = unshipped_allocations().filter(line__order=order).count()
        if unshipped:
            problems.append(
                f"{unshipped} allocation{'' if unshipped == 1 else 's'} "
                f"{'is' if unshipped == 1 else 'are'} not shipped (ship or remove "
                f"{'it' if unshipped == 1 else 'them'})"
            )
        if not accept_incomplete:
            short = [
                f"{line.part.name} ({fmt(line.shipped)} of {fmt(line.quantity)})"
                for line in order.lines.select_related("part").order_by("pk")
                if line.shipped < line.quantity
            ]
            if short:
                problems.append(
                    "lines not fully shipped: " + ", ".join(short) + " (or accept incomplete lines)"
                )
        if problems:
            raise ValidationError(
                f"{order.reference} cannot be completed: " + "; ".join(problems) + "."
            )
    today = timezone.localdate()
    ship_complete = getattr(settings, "SALES_ORDER_SHIP_COMPLETE", False)
    target = S.COMPLETE if order.status == S.SHIPPED or ship_complete else S.SHIPPED
    changes = {
        "shipment_date": order.shipment_date or today,
        "shipped_by": order.shipped_by or (user if getattr(user, "pk", None) else None),
    }
    if target == S.COMPLETE:
        changes["complete_date"] = today
    return order_transition(
        order, to=target, allowed_from=allowed, user=user, verb="completed", **changes
    )


# ---------------------------------------------------------------- lines


def _check_line_quantity(line, quantity) -> None:
    floor = line.shipped + (_line_allocated(line) if line.pk else Decimal(0))
    if quantity < floor:
        raise ValidationError(
            {
                "quantity": f"{fmt(line.shipped)} shipped and {fmt(floor - line.shipped)} allocated: "
                f"the quantity cannot go below {fmt(floor)}."
            }
        )


@transaction.atomic
def sales_order_add_line(
    *, order, part, quantity, user, unit_price=None, reference="", notes=""
) -> SalesOrderLine:
    """Add a line for a salable, physical part (duplicate parts are allowed)."""
    order = lock_order(SalesOrder, order.pk, user)
    _check_open(order, "lines can no longer be added")
    line = SalesOrderLine(
        order=order,
        part=part,
        quantity=to_quantity(quantity),
        unit_price=unit_price,
        reference=reference or "",
        notes=notes or "",
    )
    line.full_clean()
    save_with_history(line, user=user, reason="Line added")
    return line


@transaction.atomic
def sales_order_update_line(*, line, user, **fields) -> SalesOrderLine:
    """Change a line; the part cannot change once stock is allocated or shipped."""
    _check_fields(fields, LINE_FIELDS, "sales order line")
    line = lock(SalesOrderLine, line.pk)
    _check_open(line.order, "its lines can no longer be changed")
    if "quantity" in fields:
        fields["quantity"] = to_quantity(fields["quantity"])
        _check_line_quantity(line, fields["quantity"])
    part = fields.get("part")
    if part is not None and part.pk != line.part_id:
        if line.shipped or line.allocations.exists():
            raise ValidationError(
                {"part": "Stock is allocated to or shipped for this line: its part cannot change."}
            )
    for key, value in fields.items():
        setattr(line, key, "" if value is None and key in ("reference", "notes") else value)
    line.full_clean()
    save_with_history(line, user=user, reason="Line changed")
    return line


@transaction.atomic
def sales_order_delete_line(*, line, user) -> None:
    """Delete a line with nothing shipped; its allocations are removed with it."""
    line = lock(SalesOrderLine, line.pk)
    _check_open(line.order, "its lines can no longer be deleted")
    if line.shipped:
        raise ValidationError(
            f"{fmt(line.shipped)} of {line.part.name} already shipped: the line cannot be deleted."
        )
    for allocation in line.allocations.all():
        delete_with_history(allocation, user=user, reason="Line deleted")
    delete_with_history(line, user=user, reason="Line deleted")


@transaction.atomic
def sales_order_add_extra_line(
    *, order, description, user, quantity=1, price=0, reference=""
) -> SalesOrderExtraLine:
    """Add a non-part charge (shipping, discount: negative price)."""
    order = lock_order(SalesOrder, order.pk, user)
    _check_open(order, "charges can no longer be added")
    extra = SalesOrderExtraLine(
        order=order,
        description=description,
        quantity=to_quantity(quantity),
        price=Decimal(0) if price is None else price,
        reference=reference or "",
    )
    extra.full_clean()
    save_with_history(extra, user=user, reason="Charge added")
    return extra


@transaction.atomic
def sales_order_update_extra_line(*, line, user, **fields) -> SalesOrderExtraLine:
    _check_fields(fields, EXTRA_LINE_FIELDS, "charge")
    line = lock(SalesOrderExtraLine, line.pk)
    _check_open(line.order, "its charges can no longer be changed")
    if "quantity" in fields:
        fields["quantity"] = to_quantity(fields["quantity"])
    if fields.get("price", 0) is None:
        fields["price"] = Decimal(0)
    for key, value in fields.items():
        setattr(line, key, value)
    line.full_clean()
    save_with_history(line, user=user, reason="Charge changed")
    return line


@transaction.atomic
def sales_order_delete_extra_line(*, line, user) -> None:
    line = lock(SalesOrderExtraLine, line.pk)
    _check_open(line.order, "its charges can no longer be deleted")
    delete_with_history(line, user=user, reason="Charge deleted")


# ---------------------------------------------------------------- allocation


def _part_and_templates(part) -> set[int]:
    """Ids of ``part`` and every template it is (transitively) a variant of."""
    ids, current = set(), part
    while current is not None and current.pk not in ids:
        ids.add(current.pk)
        current = current.variant_of
    return ids


def _check_shipment(shipment, order) -> None:
    if shipment is None:
        return
    if shipment.order_id != order.pk:
        raise ValidationError(
            {"shipment": f"Shipment {shipment} belongs to another order, not {order.reference}."}
        )
    if shipment.is_shipped:
        raise ValidationError({"shipment": f"Shipment {shipment} has already shipped."})


def _free_quantity(item) -> Decimal:
    """What of ``item`` no build or sales order holds yet."""
    allocated = allocated_by_item([item.pk]).get(item.pk, Decimal(0))
    return item.quantity - allocated


@transaction.atomic
def sales_order_allocate(*, line, item, quantity, user, shipment=None) -> SalesOrderAllocation:
    """Set ``quantity`` of stock ``item`` aside for ``line`` (optionally on a pending shipment).

    The item must be in stock, of the line's part or one of its variants; a
    serialized item is allocated as exactly 1. Allocations of an item across
    sales orders and builds never exceed its quantity, and a line is never
    allocated more than it still needs. Allocating the same item to the same
    line and shipment again increases that allocation.
    """
    line = lock(SalesOrderLine, line.pk)
    order = lock_order(SalesOrder, line.order_id, user)
    _check_open(order, "stock can no longer be allocated to it")
    if item is None:
        raise ValidationError({"item": "Choose a stock item."})
    item = lock(StockItem, item.pk)
    quantity = to_quantity(quantity)
    if shipment is not None:
        shipment = lock(SalesOrderShipment, shipment.pk)
    _check_shipment(shipment, order)
    if line.part_id not in _part_and_templates(item.part):
        raise ValidationError({"item": f"{item} is not {line.part.name} or a variant of it."})
    if not item.is_in_stock:
        raise ValidationError({"item": f"{item} is not in stock, so it cannot be allocated."})
    if item.is_serialized and quantity != 1:
        raise ValidationError({"quantity": f"{item} is serialized: allocate exactly 1."})
    if item.part.trackable and quantity != int(quantity):
        raise ValidationError({"quantity": f"'{item.part}' is trackable: use a whole number."})
    free = _free_quantity(item)
    if quantity > free:
        held = item.quantity - free
        raise ValidationError(
            {
                "quantity": f"Only {fmt(max(free, Decimal(0)))} of {item} is unallocated "
                f"({fmt(held)} of {fmt(item.quantity)} already allocated): cannot allocate {fmt(quantity)}."
            }
        )
    needed = line.quantity - line.shipped - _line_allocated(line)
    if quantity > needed:
        raise ValidationError(
            {
                "quantity": f"The line for {line.part.name} needs only {fmt(max(needed, Decimal(0)))} more: "
                f"cannot allocate {fmt(quantity)}."
            }
        )
    existing = (
        SalesOrderAllocation.objects.select_for_update()
        .filter(line=line, item=item, shipment=shipment)
        .first()
    )
    if existing is not None:
        existing.quantity += quantity
        save_with_history(existing, user=user, reason=f"Allocated {fmt(quantity)} more")
        return existing
    allocation = SalesOrderAllocation(line=line, item=item, quantity=quantity, shipment=shipment)
    allocation.full_clean()
    save_with_history(allocation, user=user, reason=f"Allocated {fmt(quantity)}")
    return allocation


@transaction.atomic
def sales_order_unallocate(*, allocation, user, quantity=None) -> SalesOrderAllocation | None:
    """Release an unshipped allocation, or ``quantity`` of it; returns what remains (or None)."""
    allocation = lock(SalesOrderAllocation, allocation.pk)
    if allocation.shipment_id and allocation.shipment.is_shipped:
        raise ValidationError(f"{allocation} has already shipped: it cannot be released.")
    if quantity is None or to_quantity(quantity) == allocation.quantity:
        delete_with_history(allocation, user=user, reason="Allocation removed")
        return None
    quantity = to_quantity(quantity)
    if quantity > allocation.quantity:
        raise ValidationError(
            {
                "quantity": f"Only {fmt(allocation.quantity)} is allocated: cannot release {fmt(quantity)}."
            }
        )
    allocation.quantity -= quantity
    save_with_history(allocation, user=user, reason=f"Released {fmt(quantity)}")
    return allocation


@dataclass
class AutoAllocation:
    """What ``sales_order_auto_allocate`` did: allocations made and lines left alone (why)."""

    allocations: list = field(default_factory=list)
    skipped: list = field(default_factory=list)


@transaction.atomic
def sales_order_auto_allocate(*, order, user) -> AutoAllocation:
    """Allocate stock to every line that still needs some, where the choice is unambiguous.

    Unambiguous: exactly one in-stock item of the line's own part (not a variant)
    has unallocated quantity. It gets min(what the line needs, what is free).
    Allocations go on the order's only pending shipment, if it has exactly one.
    Lines with no or several candidate items are reported in ``skipped``.
    """
    order = lock_order(SalesOrder, order.pk, user)
    _check_open(order, "stock can no longer be allocated to it")
    pending = list(order.shipments.filter(shipment_date__isnull=True))
    shipment = pending[0] if len(pending) == 1 else None
    result = AutoAllocation()
    for line in order.lines.select_related("part").order_by("pk"):
        needed = line.quantity - line.shipped - _line_allocated(line)
        if needed <= 0:
            continue
        items = list(
            StockItem.objects.in_stock()
            .filter(part=line.part)
            .select_for_update()
            .select_related("part")
            .order_by("pk")
        )
        allocated = allocated_by_item([i.pk for i in items])
        free = [(i, i.quantity - allocated.get(i.pk, Decimal(0))) for i in items]
        free = [(i, q) for i, q in free if q > 0]
        if len(free) != 1:
            why = "no unallocated stock" if not free else f"{len(free)} stock items to choose from"
            result.skipped.append(f"{line.part.name}: {why}")
            continue
        item, available = free[0]
        quantity = min(needed, available)
        if line.part.trackable and quantity != int(quantity):
            quantity = Decimal(int(quantity))
            if quantity <= 0:
                result.skipped.append(f"{line.part.name}: needs a fraction of a trackable unit")
                continue
        result.allocations.append(
            sales_order_allocate(
                line=line, item=item, quantity=quantity, user=user, shipment=shipment
            )
        )
    return result


# ---------------------------------------------------------------- shipments


def _next_shipment_reference(order) -> str:
    numbers = [int(r) for r in order.shipments.values_list("reference", flat=True) if r.isdigit()]
    return str(max(numbers, default=0) + 1)


@transaction.atomic
def shipment_create(*, order, user, reference=None, **fields) -> SalesOrderShipment:
    """A new pending shipment; the reference defaults to the next number within the order (1, 2…)."""
    _check_fields(fields, SHIPMENT_FIELDS, "shipment")
    order = lock_order(SalesOrder, order.pk, user)
    _check_open(order, "shipments can no longer be added")
    shipment = SalesOrderShipment(
        order=order, reference=(reference or "").strip() or _next_shipment_reference(order)
    )
    for key, value in fields.items():
        setattr(shipment, key, value if value is not None or key == "checked_by" else "")
    shipment.full_clean()
    save_with_history(shipment, user=user, reason="Shipment created")
    return shipment


@transaction.atomic
def shipment_update(*, shipment, user, **fields) -> SalesOrderShipment:
    """Edit tracking/invoice number, checker and notes; the reference only while pending."""
    _check_fields(fields, SHIPMENT_FIELDS, "shipment")
    shipment = lock(SalesOrderShipment, shipment.pk)
    if shipment.is_shipped and fields.get("reference", shipment.reference) != shipment.reference:
        raise ValidationError({"reference": "This shipment has shipped: its reference is fixed."})
    for key, value in fields.items():
        setattr(shipment, key, value if value is not None or key == "checked_by" else "")
    shipment.full_clean()
    save_with_history(shipment, user=user, reason="Shipment edited")
    return shipment


@transaction.atomic
def shipment_delete(*, shipment, user) -> None:
    """Delete a pending shipment; its allocations stay allocated, without a shipment."""
    shipment = lock(SalesOrderShipment, shipment.pk)
    if shipment.is_shipped:
        raise ValidationError(f"Shipment {shipment} has shipped: it cannot be deleted.")
    for allocation in shipment.allocations.all():
        allocation.shipment = None
        save_with_history(allocation, user=user, reason=f"Shipment {shipment.reference} deleted")
    delete_with_history(shipment, user=user, reason="Deleted")


@transaction.atomic
def shipment_add_allocations(*, shipment, user, allocations=None) -> int:
    """Put allocations on a pending shipment (default: all of the order's without a shipment)."""
    shipment = lock(SalesOrderShipment, shipment.pk)
    order = shipment.order
    _check_open(order, "its shipments can no longer change")
    _check_shipment(shipment, order)
    if allocations is None:
        rows = SalesOrderAllocation.objects.filter(line__order=order, shipment__isnull=True)
    else:
        rows = SalesOrderAllocation.objects.filter(pk__in=[a.pk for a in allocations])
    rows = list(
        rows.select_for_update(of=("self",)).select_related("line", "shipment").order_by("pk")
    )
    if not rows:
        raise ValidationError(f"{order.reference} has no allocations without a shipment.")
    for allocation in rows:
        if allocation.line.order_id != order.pk:
            raise ValidationError(f"{allocation} belongs to another order.")
        if allocation.shipment_id and allocation.shipment.is_shipped:
            raise ValidationError(f"{allocation} has already shipped.")
        allocation.shipment = shipment
        save_with_history(allocation, user=user, reason=f"Put on shipment {shipment.reference}")
    return len(rows)


@transaction.atomic
def shipment_complete(
    *, shipment, user, tracking_number="", invoice_number="", shipment_date=None
) -> SalesOrderShipment:
    """Ship a pending shipment of an IN_PROGRESS order.

    Each allocation's stock is split off (if partial) and assigned to the
    customer with the order (``sales_order`` set, so it leaves stock), the
    allocation re-pointed at the shipped item, the line's ``shipped`` increased,
    and a "shipped against sales order" tracking entry written.
    """
    shipment = lock(SalesOrderShipment, shipment.pk)
    order = lock_order(SalesOrder, shipment.order_id, user)
    if shipment.is_shipped:
        raise ValidationError(
            f"Shipment {shipment} already shipped on {shipment.shipment_date:%Y-%m-%d}."
        )
    if order.status != S.IN_PROGRESS:
        raise ValidationError(
            f"{order.reference} is {order.get_status_display()}: only orders in progress can ship."
        )
    allocations = list(
        shipment.allocations.select_for_update(of=("self",))
        .select_related("line__part")
        .order_by("pk")
    )
    if not allocations:
        raise ValidationError(f"Shipment {shipment} has no allocated stock: nothing to ship.")
    customer = order.customer
    for allocation in allocations:
        item = lock(StockItem, allocation.item_id)
        if allocation.quantity > item.quantity:
            raise ValidationError(
                f"Stock item {item.pk} ({item.part.name}) has only {fmt(item.quantity)} left: "
                f"cannot ship the {fmt(allocation.quantity)} allocated."
            )
        note = f"Shipped against {order.reference} (shipment {shipment.reference})"
        try:
            shipped = stock_item_assign_to_customer(
                item=item,
                customer=customer,
                user=user,
                quantity=allocation.quantity if allocation.quantity < item.quantity else None,
                notes=note,
            )
        except ValidationError as error:
            raise ValidationError(f"Cannot ship {item}: {' '.join(error.messages)}") from None
        shipped.sales_order = order
        save_with_history(shipped, user=user, reason=f"Shipped against {order.reference}")
        track_stock(
            shipped,
            StockHistoryCode.SHIPPED_AGAINST_SALES_ORDER,
            user=user,
            notes=note,
            deltas={
                "sales_order": order.reference,
                "shipment": shipment.reference,
                "customer": customer.pk,
                "customer_name": customer.name,
                "quantity": fmt(shipped.quantity),
            },
        )
        if allocation.item_id != shipped.pk:
            allocation.item = shipped
            save_with_history(allocation, user=user, reason=f"Shipped as item {shipped.pk}")
        line = lock(SalesOrderLine, allocation.line_id)
        line.shipped += allocation.quantity
        save_with_history(
            line, user=user, reason=f"Shipped {fmt(allocation.quantity)} ({shipment.reference})"
        )
    shipment.shipment_date = shipment_date or timezone.localdate()
    if tracking_number:
        shipment.tracking_number = tracking_number
    if invoice_number:
        shipment.invoice_number = invoice_number
    shipment.full_clean()
    save_with_history(shipment, user=user, reason="Shipped")
    return shipment
