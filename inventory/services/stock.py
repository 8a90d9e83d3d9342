"""Stock services: every change to a stock item's quantity, place, status or state.

Each function is atomic, re-reads the rows it changes under a row lock,
validates with messages a back-office user understands (raising
django.core.exceptions.ValidationError and changing nothing), writes one
tracking entry per effect, and attributes the history record to ``user``.

Depletion rule: when a non-serialized item's quantity reaches zero through
remove, count, move-all-by-splitting or serialize, it is deleted if its
``delete_on_deplete`` flag is set (default: setting STOCK_DELETE_DEPLETED_DEFAULT,
true) and it has nothing installed in it; otherwise it stays with quantity 0.
The deletion itself is in the item's history.

Items that left our stock (consumed by a build, shipped, installed in another item,
with a customer: ``StockItem.state``) are refused by every service here except the
operations made for them (return from customer, uninstall), through the one check
``inventory.services.common.check_item_changeable``.
"""

from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from inventory.choices import StockHistoryCode, StockStatus
from inventory.models import Part, StockItem, StockItemTracking, StockLocation
from inventory.models.stock import serial_conflicts, variant_family_part_ids
from inventory.permissions import check_stock_ownership
from inventory.services.common import (
    check_item_changeable,
    check_quantity_fits,
    delete_with_history,
    fmt,
    lock,
    prepare_tree_node_delete,
    save_with_history,
    to_quantity,
    track_stock,
)
from inventory.services.serials import parse_serials

H = StockHistoryCode


def _track(item, code, user, notes="", **deltas) -> StockItemTracking:
    return track_stock(item, code, user=user, notes=notes, deltas=deltas)


def _location_delta(location):
    return (
        {"location": location.pk, "location_path": location.pathstring}
        if location
        else {"location": None}
    )


def _lock_owned(item, user, operation: str):
    """Lock the item's row and refuse if ownership control says ``user`` may not change it,
    or if the item left our stock and ``operation`` is not one made for its state."""
    item = lock(StockItem, item.pk)
    check_item_changeable(item, operation)
    check_stock_ownership(user, item.location)
    return item


def _check_location(location, user=None):
    if location is None:
        raise ValidationError({"location": "Choose a destination location."})
    if location.structural:
        raise ValidationError(
            {"location": f"'{location}' is structural: choose one of its sub-locations."}
        )
    check_stock_ownership(user, location)


def _check_not_serialized(item, verb: str):
    if item.is_serialized:
        raise ValidationError(f"{item} is serialized: stock cannot be {verb} it; it is one unit.")


def _check_whole(item, quantity, field="quantity"):
    if item.part.trackable and quantity != int(quantity):
        raise ValidationError({field: f"'{item.part}' is trackable: use a whole number."})


def _check_in_stock(item, verb: str):
    if not item.is_in_stock and not getattr(settings, "STOCK_ALLOW_OUT_OF_STOCK_TRANSFER", False):
        raise ValidationError(
            f"{item} is not in stock ({_why_not_in_stock(item)}), so it cannot be {verb}."
        )


def _why_not_in_stock(item) -> str:
    if item.quantity <= 0:
        return "quantity is zero"
    if item.belongs_to_id:
        return f"it is installed in {item.belongs_to}"
    if item.customer_id:
        return f"it is with customer {item.customer}"
    if item.is_building:
        return "it is a build output still in production"
    if item.sales_order_id:
        return f"it was shipped against {item.sales_order.reference}"
    if item.consumed_by_id:
        return f"it was consumed by build {item.consumed_by.reference}"
    return f"its status is {item.get_status_display()}"


def _to_status(status) -> StockStatus:
    try:
        return StockStatus(int(status))
    except (TypeError, ValueError):
        raise ValidationError({"status": f"'{status}' is not a stock status."}) from None


def _deplete_if_empty(item, user, reason) -> StockItem | None:
    """Apply the depletion rule; returns the item, or None when it was deleted."""
    if (
        item.quantity > 0
        or item.is_serialized
        or not item.delete_on_deplete
        or item.installed_items.exists()
    ):
        return item
    delete_with_history(item, user=user, reason=f"{reason} (depleted)")
    return None


def _clone(item, *, quantity, user, reason, **overrides) -> StockItem:
    """A new item with ``item``'s attributes (not its identity or serial), saved."""
    fields = (
        "part_id",
        "build_id",
        "supplier_part_id",
        "purchase_order_id",
        "sales_order_id",
        "location_id",
        "batch",
        "status",
        "expiry_date",
        "purchase_price",
        "purchase_price_currency",
        "customer_id",
        "belongs_to_id",
        "is_building",
        "delete_on_deplete",
        "notes",
    )
    new = StockItem(**{f: getattr(item, f) for f in fields})
    new.quantity = quantity
    new.parent = item
    for key, value in overrides.items():
        setattr(new, key, value)
    new.full_clean()
    save_with_history(new, user=user, reason=reason)
    return new


@transaction.atomic
def stock_item_create(
    *,
    part,
    quantity,
    user,
    location=None,
    serials="",
    batch="",
    status=StockStatus.OK,
    expiry_date=None,
    purchase_price=None,
    purchase_price_currency="",
    notes="",
    delete_on_deplete=None,
) -> list[StockItem]:
    """Create stock of ``part``: one item, or one item per serial when ``serials`` is given.

    Location defaults to ``part.get_default_location()`` (the part's, then its category's,
    then the nearest ancestor category's default location); expiry to today + the part's
    default expiry days.
    """
    quantity = to_quantity(quantity)
    if part.virtual:
        raise ValidationError({"part": f"'{part}' is virtual: it cannot hold stock."})
    if not part.active:
        raise ValidationError({"part": f"'{part}' is inactive: reactivate it before adding stock."})
    location = location or part.get_default_location()
    if location is not None and location.structural:
        raise ValidationError(
            {"location": f"'{location}' is structural: choose one of its sub-locations."}
        )
    check_stock_ownership(user, location)
    if expiry_date is None and part.default_expiry:
        expiry_date = timezone.localdate() + timedelta(days=part.default_expiry)
    if delete_on_deplete is None:
        delete_on_deplete = settings.STOCK_DELETE_DEPLETED_DEFAULT
    common = {
        "part": part,
        "location": location,
        "batch": batch,
        "status": status,
        "expiry_date": expiry_date,
        "purchase_price": purchase_price,
        "purchase_price_currency": purchase_price_currency,
        "notes": notes,
        "delete_on_deplete": delete_on_deplete,
    }
    if serials:
        serial_list = _new_serials(part, serials, quantity)
        items = [StockItem(**common, quantity=1, serial=serial) for serial in serial_list]
    else:
        if part.trackable and quantity != int(quantity):
            raise ValidationError({"quantity": f"'{part}' is trackable: use a whole number."})
        items = [StockItem(**common, quantity=quantity)]
    for item in items:
        item.full_clean()
        save_with_history(item, user=user, reason="Stock created")
        _track(
            item,
            H.CREATED,
            user,
            notes,
            quantity=fmt(item.quantity),
            status=item.status,
            **_location_delta(location),
        )
    return items


def _next_serial_number(part) -> int:
    family = variant_family_part_ids(part)
    highest = (
        StockItem.objects.filter(part_id__in=family)
        .exclude(serial="")
        .aggregate(m=Max("serial_int"))["m"]
    )
    return (highest or 0) + 1


def _new_serials(part, expression, quantity) -> list[str]:
    """Validate serials for new items of ``part``: trackable, right count, all unused."""
    if not part.trackable:
        raise ValidationError(
            {"serials": f"'{part}' is not trackable, so its stock cannot have serial numbers."}
        )
    if quantity != int(quantity):
        raise ValidationError({"quantity": "Serialized stock needs a whole-number quantity."})
    # serials are unique per variant family: one family assigns serials at a time
    lock(Part, part.variant_family().pk)
    serial_list = parse_serials(expression, int(quantity), next_serial=_next_serial_number(part))
    taken = serial_conflicts(part, serial_list)
    if taken:
        shown = ", ".join(taken[:10]) + (" …" if len(taken) > 10 else "")
        raise ValidationError(
            {"serials": f"Serial numbers already in use for '{part.variant_family()}': {shown}."}
        )
    return serial_list


@transaction.atomic
def stock_item_add(*, item, quantity, user, notes="") -> StockItem:
    """Receive more of an existing item (not serialized)."""
    item = _lock_owned(item, user, "add")
    quantity = to_quantity(quantity)
    _check_not_serialized(item, "added to")
    _check_whole(item, quantity)
    check_quantity_fits(item.quantity + quantity)
    item.quantity += quantity
    save_with_history(item, user=user, reason=f"Added {fmt(quantity)}")
    _track(item, H.STOCK_ADD, user, notes, added=fmt(quantity), quantity=fmt(item.quantity))
    return item


@transaction.atomic
def stock_item_remove(*, item, quantity, user, notes="") -> StockItem | None:
    """Take stock out of an item. Returns None if the item was depleted and deleted."""
    item = _lock_owned(item, user, "remove")
    quantity = to_quantity(quantity)
    _check_not_serialized(item, "taken from")
    _check_whole(item, quantity)
    if quantity > item.quantity:
        raise ValidationError(
            {"quantity": f"Only {fmt(item.quantity)} in this item: cannot take {fmt(quantity)}."}
        )
    item.quantity -= quantity
    save_with_history(item, user=user, reason=f"Removed {fmt(quantity)}")
    _track(item, H.STOCK_REMOVE, user, notes, removed=fmt(quantity), quantity=fmt(item.quantity))
    return _deplete_if_empty(item, user, f"Removed {fmt(quantity)}")


@transaction.atomic
def stock_item_count(*, item, quantity, user, notes="", status=None) -> StockItem | None:
    """Stocktake: set the counted quantity (and optionally status); negative counts are refused."""
    item = _lock_owned(item, user, "count")
    quantity = to_quantity(quantity, allow_zero=True)
    _check_whole(item, quantity)
    if item.serial and quantity != 1:
        raise ValidationError(
            {
                "quantity": f"{item} is serialized: its count is 1; change its status to Lost if it is missing."
            }
        )
    deltas = {"quantity": fmt(quantity), "previous_quantity": fmt(item.quantity)}
    if status is not None:
        status = _to_status(status)
    if status is not None and status != item.status:
        deltas.update(status=int(status), previous_status=item.status)
        item.status = status
    item.quantity = quantity
    item.stocktake_date = timezone.localdate()
    item.stocktake_user = user if getattr(user, "pk", None) else None
    save_with_history(item, user=user, reason=f"Counted {fmt(quantity)}")
    _track(item, H.STOCK_COUNT, user, notes, **deltas)
    return _deplete_if_empty(item, user, f"Counted {fmt(quantity)}")


@transaction.atomic
def stock_item_split(*, item, quantity, user, location=None, notes="") -> StockItem:
    """Split ``quantity`` off into a new item (at ``location`` or the same place); returns the new item."""
    item = _lock_owned(item, user, "split")
    return _split(item, quantity, user=user, location=location, notes=notes)


def _split(item, quantity, *, user, location=None, notes="") -> StockItem:
    """stock_item_split on a locked item whose state the caller has checked (also used by
    the return from a customer, which may split an item the customer holds)."""
    quantity = to_quantity(quantity)
    _check_not_serialized(item, "split off from")
    _check_whole(item, quantity)
    if quantity >= item.quantity:
        raise ValidationError(
            {
                "quantity": f"Split quantity must be less than the item's quantity ({fmt(item.quantity)})."
            }
        )
    if location is not None:
        _check_location(location, user)
    item.quantity -= quantity
    save_with_history(item, user=user, reason=f"Split off {fmt(quantity)}")
    new = _clone(
        item,
        quantity=quantity,
        user=user,
        reason=f"Split from item {item.pk}",
        location=location or item.location,
    )
    _track(new, H.SPLIT_FROM_PARENT, user, notes, stockitem=item.pk, quantity=fmt(quantity))
    _track(
        item,
        H.SPLIT_CHILD_ITEM,
        user,
        notes,
        stockitem=new.pk,
        removed=fmt(quantity),
        quantity=fmt(item.quantity),
    )
    return new


@transaction.atomic
def stock_item_move(*, item, location, user, quantity=None, notes="") -> StockItem:
    """Move an item, or part of it (split off first), to ``location``; returns the moved item.

    Moving to the item's current location records a stock update, not a move.
    """
    item = _lock_owned(item, user, "move")
    _check_location(location, user)
    _check_in_stock(item, "moved")
    if quantity is not None:
        quantity = to_quantity(quantity)
        _check_whole(item, quantity)
        if quantity > item.quantity:
            raise ValidationError(
                {
                    "quantity": f"Only {fmt(item.quantity)} in this item: cannot move {fmt(quantity)}."
                }
            )
        if quantity < item.quantity:
            _check_not_serialized(item, "split off from")
            item = stock_item_split(item=item, quantity=quantity, user=user, notes=notes)
    if item.location_id == location.pk:
        _track(item, H.STOCK_UPDATE, user, notes, **_location_delta(location))
        return item
    previous = item.location
    item.location = location
    save_with_history(item, user=user, reason=f"Moved to {location.pathstring}")
    _track(
        item,
        H.STOCK_MOVE,
        user,
        notes,
        **_location_delta(location),
        previous_location=previous.pk if previous else None,
        previous_location_path=previous.pathstring if previous else "",
    )
    return item


# (installed, with a customer, consumed and shipped items are refused by check_item_changeable)
MERGE_BLOCKERS = (
    (lambda i: i.is_serialized, "is serialized"),
    (lambda i: i.is_building, "is a build output in production"),
)


@transaction.atomic
def stock_items_merge(*, items, user, location=None, notes="") -> StockItem:
    """Merge items of one part into the first; quantities summed, others deleted.

    Purchase price becomes the quantity-weighted average of the items that have one.
    """
    items = list(dict.fromkeys(items))  # the same item chosen twice counts once
    if len(items) < 2:
        raise ValidationError("Choose at least two stock items to merge.")
    locked = {  # locked in id order, so overlapping merges at once cannot deadlock
        i.pk: i
        for i in StockItem.objects.select_for_update()
        .filter(pk__in=[i.pk for i in items])
        .order_by("pk")
    }
    if len(locked) != len({i.pk for i in items}):
        raise ValidationError("Some of the chosen stock items no longer exist.")
    ordered = [locked[i.pk] for i in items]
    for each in ordered:
        check_item_changeable(each, "merge")
    check_stock_ownership(user, *(i.location for i in ordered))
    target, others = ordered[0], ordered[1:]
    problems = [f"{i} {why}" for i in ordered for check, why in MERGE_BLOCKERS if check(i)]
    holders = set(
        StockItem.objects.filter(belongs_to__in=[i.pk for i in ordered]).values_list(
            "belongs_to", flat=True
        )
    )
    problems += [f"{i} has other items installed in it" for i in ordered if i.pk in holders]
    if problems:
        raise ValidationError("Cannot merge: " + "; ".join(problems) + ".")
    if len({i.part_id for i in ordered}) > 1:
        raise ValidationError("Cannot merge: the items are of different parts.")
    if len({i.status for i in ordered}) > 1:
        raise ValidationError("Cannot merge: the items have different statuses.")
    supplier_parts = {i.supplier_part_id for i in ordered}
    if len(supplier_parts) > 1:
        raise ValidationError("Cannot merge: the items come from different supplier parts.")
    if location is not None:
        _check_location(location, user)
    total = sum((i.quantity for i in ordered), Decimal(0))
    check_quantity_fits(total)
    priced = [i for i in ordered if i.purchase_price is not None]
    if priced:
        currencies = {i.purchase_price_currency for i in priced}
        if len(currencies) > 1:
            raise ValidationError(
                f"Cannot merge: purchase prices are in different currencies ({', '.join(sorted(currencies))})."
            )
        priced_qty = sum((i.quantity for i in priced), Decimal(0))
        if priced_qty:
            target.purchase_price = (
                sum(i.purchase_price * i.quantity for i in priced) / priced_qty
            ).quantize(Decimal("0.000001"))
            target.purchase_price_currency = priced[0].purchase_price_currency
    target.quantity = total
    if location is not None:
        target.location = location
    expiries = [i.expiry_date for i in ordered if i.expiry_date]
    target.expiry_date = min(expiries) if expiries else None
    merged = [i.pk for i in others]
    # the target may have been split from one of the merged items: keep the nearest survivor
    parent_of = {i.pk: i.parent_id for i in others}
    while target.parent_id in parent_of:
        target.parent_id = parent_of.pop(target.parent_id)
    for other in others:
        StockItem.objects.filter(parent=other).exclude(pk=target.pk).update(parent=target)
    save_with_history(target, user=user, reason=f"Merged {len(others)} items")
    for other in others:
        delete_with_history(other, user=user, reason=f"Merged into item {target.pk}")
    moved = _location_delta(location) if location is not None else {}
    _track(target, H.MERGED_STOCK_ITEMS, user, notes, merged=merged, quantity=fmt(total), **moved)
    return target


@transaction.atomic
def stock_item_serialize(
    *, item, quantity, serials, user, location=None, notes=""
) -> list[StockItem]:
    """Turn ``quantity`` units of a trackable item into that many serialized items.

    ``serials`` is an expression (``1-10, 15, 20+``) or a list; its count must equal the
    quantity and none may be in use in the part's variant family.
    """
    item = _lock_owned(item, user, "serialize")
    quantity = to_quantity(quantity)
    _check_not_serialized(item, "serialized from")
    if quantity > item.quantity:
        raise ValidationError(
            {
                "quantity": f"Only {fmt(item.quantity)} in this item: cannot serialize {fmt(quantity)}."
            }
        )
    serial_list = _new_serials(item.part, serials, quantity)
    if location is not None:
        _check_location(location, user)
    item.quantity -= quantity
    save_with_history(item, user=user, reason=f"Serialized {len(serial_list)} units")
    created = []
    for serial in serial_list:
        new = _clone(
            item,
            quantity=Decimal(1),
            user=user,
            reason=f"Serialized from item {item.pk}",
            serial=serial,
            location=location or item.location,
            delete_on_deplete=False,
        )
        _track(new, H.ASSIGNED_SERIAL, user, notes, serial=serial, stockitem=item.pk)
        created.append(new)
    _track(
        item,
        H.STOCK_SERIALIZED,
        user,
        notes,
        serials=serial_list,
        removed=fmt(quantity),
        quantity=fmt(item.quantity),
    )
    _deplete_if_empty(item, user, f"Serialized {len(serial_list)} units")
    return created


@transaction.atomic
def stock_item_change_status(*, item, status, user, notes="") -> StockItem:
    """Set an item's status (e.g. to Damaged or Quarantined)."""
    item = _lock_owned(item, user, "status")
    status = _to_status(status)
    if status == item.status:
        raise ValidationError({"status": f"{item} is already {status.label}."})
    previous = item.status
    item.status = status
    save_with_history(item, user=user, reason=f"Status changed to {status.label}")
    _track(item, H.EDITED, user, notes, status=int(status), previous_status=previous)
    return item


@transaction.atomic
def stock_item_assign_to_customer(*, item, customer, user, quantity=None, notes="") -> StockItem:
    """Send stock to a customer (splitting if partial); it leaves its location."""
    item = _lock_owned(item, user, "assign")
    if customer is None or not customer.is_customer:
        raise ValidationError({"customer": f"'{customer}' is not marked as a customer."})
    _check_in_stock(item, "assigned to a customer")
    if quantity is not None:
        quantity = to_quantity(quantity)
        _check_whole(item, quantity)
        if quantity > item.quantity:
            raise ValidationError(
                {
                    "quantity": f"Only {fmt(item.quantity)} in this item: cannot send {fmt(quantity)}."
                }
            )
        if quantity < item.quantity:
            item = stock_item_split(item=item, quantity=quantity, user=user, notes=notes)
    previous = item.location
    item.customer = customer
    item.location = None
    save_with_history(item, user=user, reason=f"Sent to customer {customer}")
    _track(
        item,
        H.SENT_TO_CUSTOMER,
        user,
        notes,
        customer=customer.pk,
        customer_name=customer.name,
        previous_location=previous.pk if previous else None,
    )
    return item


@transaction.atomic
def stock_item_return_from_customer(
    *, item, location, user, notes="", merge=True, quantity=None
) -> StockItem:
    """Take an item (or ``quantity`` of it, split off first) back from its customer into
    ``location``; its customer and sales order are cleared. Returns the returned item.

    If it goes back to where the item it was split from still is, and both can
    merge, it merges back into that item (so total stock is as before).
    """
    item = _lock_owned(item, user, "return")
    if item.customer_id is None:
        raise ValidationError(f"{item} is not with a customer.")
    _check_location(location, user)
    if quantity is not None:
        quantity = to_quantity(quantity)
        if quantity > item.quantity:
            raise ValidationError(
                {
                    "quantity": f"{item} has only {fmt(item.quantity)}: cannot return {fmt(quantity)}."
                }
            )
        if quantity < item.quantity:
            item = _split(item, quantity, user=user, notes=notes)
    customer = item.customer
    item.customer = None
    item.belongs_to = None
    item.sales_order = None
    item.location = location
    save_with_history(item, user=user, reason=f"Returned from customer {customer}")
    _track(
        item,
        H.RETURNED_FROM_CUSTOMER,
        user,
        notes,
        customer=customer.pk,
        customer_name=customer.name,
        **_location_delta(location),
    )
    parent = item.parent
    if (
        merge
        and parent is not None
        and parent.location_id == location.pk
        and parent.is_in_stock
        and not parent.is_serialized
        and not item.is_serialized
        and parent.status == item.status
        and parent.part_id == item.part_id
    ):
        try:
            with transaction.atomic():
                return stock_items_merge(
                    items=[parent, item], user=user, notes="Merged back after return"
                )
        except ValidationError:
            pass  # e.g. prices in different currencies: the item stays a separate item
    return item


def _installed_chain(item) -> set[int]:
    """Ids of ``item`` and every item it is (transitively) installed in."""
    chain, current = set(), item
    while current is not None and current.pk not in chain:
        chain.add(current.pk)
        current = current.belongs_to
    return chain


@transaction.atomic
def stock_item_install(*, item, into, user, quantity=None, notes="") -> StockItem:
    """Install (part of) ``item`` into the assembly item ``into``; returns the installed item."""
    if item.pk == into.pk:
        raise ValidationError("An item cannot be installed in itself.")
    # both rows, in id order (two opposite installs at once must not deadlock)
    for pk in sorted((item.pk, into.pk)):
        locked = lock(StockItem, pk)
        if pk == item.pk:
            item = locked
        else:
            into = locked
    if item.pk in _installed_chain(into):
        raise ValidationError(f"{into} is installed inside {item}: installing would create a loop.")
    check_item_changeable(item, "install")
    check_item_changeable(into, "install_into")
    check_stock_ownership(user, item.location, into.location)
    _check_in_stock(item, "installed")
    if quantity is not None:
        quantity = to_quantity(quantity)
        _check_whole(item, quantity)
        if quantity > item.quantity:
            raise ValidationError(
                {
                    "quantity": f"Only {fmt(item.quantity)} in this item: cannot install {fmt(quantity)}."
                }
            )
        if quantity < item.quantity:
            item = stock_item_split(item=item, quantity=quantity, user=user, notes=notes)
    previous = item.location
    item.belongs_to = into
    item.location = None
    save_with_history(item, user=user, reason=f"Installed into item {into.pk}")
    _track(
        item,
        H.INSTALLED_INTO_ASSEMBLY,
        user,
        notes,
        stockitem=into.pk,
        previous_location=previous.pk if previous else None,
    )
    _track(
        into, H.INSTALLED_CHILD_ITEM, user, notes, stockitem=item.pk, quantity=fmt(item.quantity)
    )
    return item


@transaction.atomic
def stock_item_uninstall(*, item, location, user, notes="") -> StockItem:
    """Remove an installed item from its assembly into ``location``."""
    item = _lock_owned(item, user, "uninstall")
    if item.belongs_to_id is None:
        raise ValidationError(f"{item} is not installed in another item.")
    _check_location(location, user)
    assembly = item.belongs_to
    item.belongs_to = None
    item.location = location
    save_with_history(item, user=user, reason=f"Uninstalled from item {assembly.pk}")
    _track(
        item,
        H.REMOVED_FROM_ASSEMBLY,
        user,
        notes,
        stockitem=assembly.pk,
        **_location_delta(location),
    )
    _track(assembly, H.REMOVED_CHILD_ITEM, user, notes, stockitem=item.pk)
    return item


@transaction.atomic
def stock_item_delete(*, item, user, reason="Deleted") -> None:
    """Delete a stock item (a mistaken entry); the deletion is in its history.

    Refused for items that left our stock (consumed, shipped, installed, with a customer)
    and for items that have other items installed in them."""
    item = _lock_owned(item, user, "delete")
    if item.installed_items.exists():
        raise ValidationError(f"{item} has other items installed in it: uninstall them first.")
    delete_with_history(item, user=user, reason=reason)


@transaction.atomic
def stock_location_move_items(*, location, destination, user, notes="") -> int:
    """Move every in-stock item stored directly in ``location`` to ``destination``; returns the count."""
    _check_location(destination, user)
    if destination.pk == location.pk:
        raise ValidationError({"location": "The destination is the same location."})
    moved = 0
    for item in (
        StockItem.objects.in_stock().filter(location=location).select_related("part", "location")
    ):
        stock_item_move(item=item, location=destination, user=user, notes=notes)
        moved += 1
    return moved


@transaction.atomic
def stock_location_delete(*, location, user) -> None:
    """Delete a location; its sub-locations and items move up to its parent (or to no location)."""
    location = lock(StockLocation, location.pk)
    check_stock_ownership(user, location)
    parent = location.parent
    prepare_tree_node_delete(
        location,
        members_exist=StockItem.objects.filter(location=location).exists(),
        members="stock items",
    )
    for child in location.children.all():
        child.parent = parent
        save_with_history(child, user=user, reason=f"Parent location {location.name} deleted")
    for item in StockItem.objects.filter(location=location):
        item.location = parent
        save_with_history(item, user=user, reason=f"Location {location.name} deleted")
        _track(
            item,
            H.STOCK_MOVE,
            user,
            f"Location {location.pathstring} deleted",
            **_location_delta(parent),
        )
    delete_with_history(location, user=user, reason="Deleted")
