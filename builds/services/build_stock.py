"""Build services for stock: allocate, unallocate, auto-allocate, trim, consume.

An allocation (BuildItem) reserves part of an in-stock item for one build line.
Allocated stock stays where it is (and stays "in stock") until it is used:
trackable components are installed into their build output when that output is
completed; untracked components are consumed when the build is completed.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F

from builds.models import BuildItem, BuildLine
from builds.selectors.bom import valid_allocation_part_ids
from builds.services.build_common import (
    ZERO,
    allocated_on_item,
    allocated_on_line,
    build_delta,
    is_tracked_line,
    lock_build,
    output_of,
    require_active,
    track,
)
from inventory.allocations import item_allocated_expression
from inventory.choices import StockHistoryCode
from inventory.models import Part, StockItem
from inventory.services.common import (
    check_quantity_fits,
    delete_with_history,
    fmt,
    lock,
    save_with_history,
    to_quantity,
)
from inventory.services.stock import stock_item_install, stock_item_split


def _line_of(build, line) -> BuildLine:
    try:
        return BuildLine.objects.select_related("bom_item__sub_part").get(
            pk=line.pk, build_id=build.pk
        )
    except BuildLine.DoesNotExist:
        raise ValidationError({"line": f"This line is not part of {build.reference}."}) from None


def _part_names(part_ids) -> str:
    names = sorted(str(p) for p in Part.objects.filter(pk__in=part_ids))
    return ", ".join(names[:8]) + (" …" if len(names) > 8 else "")


@transaction.atomic
def build_allocate(*, line, stock_item, quantity, user, output=None) -> BuildItem:
    """Allocate ``quantity`` of ``stock_item`` to a build line (for trackable components:
    to one build ``output``). Allocating the same item again adds to its allocation."""
    build = lock_build(line.build, user)
    require_active(build, "allocate stock")
    line = _line_of(build, line)
    item = lock(StockItem, stock_item.pk)
    quantity = to_quantity(quantity)
    component = line.bom_item.sub_part
    if not StockItem.objects.in_stock().filter(pk=item.pk).exists():
        raise ValidationError({"stock_item": f"{item} is not in stock."})
    valid = valid_allocation_part_ids(line.bom_item)
    if item.part_id not in valid:
        raise ValidationError(
            {
                "stock_item": f"{item.part} cannot be used for the {component} line "
                f"(allowed: {_part_names(valid)})."
            }
        )
    if build.take_from_id and not (
        StockItem.objects.in_location_subtree(build.take_from).filter(pk=item.pk).exists()
    ):
        raise ValidationError(
            {
                "stock_item": f"{item} is not in {build.take_from} (or below), where "
                f"{build.reference} takes its stock from."
            }
        )
    if is_tracked_line(line):
        if output is None:
            raise ValidationError(
                {"output": f"{component} is trackable: choose the build output it goes into."}
            )
        output = output_of(build, output)
        if quantity != int(quantity):
            raise ValidationError({"quantity": f"'{component}' is trackable: use a whole number."})
    elif output is not None:
        raise ValidationError(
            {
                "output": f"{component} is not trackable: it is allocated to the build, not an output."
            }
        )
    if item.is_serialized and quantity != 1:
        raise ValidationError({"quantity": f"{item} is serialized: allocate exactly 1."})
    free = item.quantity - allocated_on_item(item.pk)
    if quantity > free:
        raise ValidationError(
            {
                "quantity": f"Only {fmt(max(free, ZERO))} of {item} is unallocated: "
                f"cannot allocate {fmt(quantity)}."
            }
        )
    allocation = BuildItem.objects.filter(
        build_line=line, stock_item=item, install_into=output
    ).first()
    if allocation is None:
        allocation = BuildItem(build_line=line, stock_item=item, install_into=output, quantity=0)
    allocation.quantity += quantity
    check_quantity_fits(allocation.quantity)
    save_with_history(allocation, user=user, reason=f"Allocated {fmt(quantity)}")
    return allocation


@transaction.atomic
def build_unallocate(
    *, build, user, allocation=None, quantity=None, line=None, output=None
) -> Decimal:
    """Remove allocations; returns the quantity freed.

    With ``allocation``: that one (or only ``quantity`` of it). Otherwise every
    allocation of the build, narrowed to one ``line`` and/or one ``output``.
    """
    build = lock_build(build, user)
    require_active(build, "unallocate stock")
    if allocation is not None:
        try:
            allocation = BuildItem.objects.select_for_update().get(
                pk=allocation.pk, build_line__build=build
            )
        except BuildItem.DoesNotExist:
            raise ValidationError(
                f"This allocation is no longer part of {build.reference}."
            ) from None
        if quantity is None or quantity == "":
            delete_with_history(allocation, user=user, reason="Unallocated")
            return allocation.quantity
        quantity = to_quantity(quantity)
        if quantity > allocation.quantity:
            raise ValidationError(
                {
                    "quantity": f"Only {fmt(allocation.quantity)} is allocated: "
                    f"cannot unallocate {fmt(quantity)}."
                }
            )
        if quantity == allocation.quantity:
            delete_with_history(allocation, user=user, reason="Unallocated")
        else:
            allocation.quantity -= quantity
            save_with_history(allocation, user=user, reason=f"Unallocated {fmt(quantity)}")
        return quantity
    if quantity not in (None, ""):
        raise ValidationError({"allocation": "Choose the allocation to unallocate part of."})
    allocations = BuildItem.objects.filter(build_line__build=build).order_by("pk")
    if line is not None:
        allocations = allocations.filter(build_line_id=line.pk)
    if output is not None:
        allocations = allocations.filter(install_into_id=output.pk)
    allocations = list(allocations.select_for_update())
    if not allocations:
        raise ValidationError(f"Nothing of this is allocated to {build.reference}.")
    for each in allocations:
        delete_with_history(each, user=user, reason="Unallocated")
    return sum((a.quantity for a in allocations), ZERO)


@dataclass
class AutoAllocation:
    """What ``build_auto_allocate`` did: allocations made, lines left for a person to choose."""

    allocations: list = field(default_factory=list)
    ambiguous_lines: list = field(default_factory=list)
    quantity: Decimal = ZERO


def _candidates(build, line, valid, location):
    """In-stock, non-serialized items of active valid parts with unallocated quantity,
    best first: the component itself, then its variants, then substitutes; within a
    tier the earliest expiry first, then the oldest item."""
    items = StockItem.objects.in_stock().filter(part_id__in=valid, part__active=True, serial="")
    if build.take_from_id:
        items = items.in_location_subtree(build.take_from)
    if location is not None:
        items = items.in_location_subtree(location)
    items = (
        items.annotate(allocated=item_allocated_expression())
        .annotate(free=F("quantity") - F("allocated"))
        .filter(free__gt=0)
    )
    component = line.bom_item.sub_part_id
    substitutes = set(line.bom_item.substitutes.values_list("part_id", flat=True))

    def rank(item):
        tier = 0 if item.part_id == component else 2 if item.part_id in substitutes else 1
        return (tier, item.expiry_date is None, item.expiry_date or 0, item.pk)

    return sorted(items, key=rank)


@transaction.atomic
def build_auto_allocate(
    *, build, user, interchangeable=False, location=None, optional=False
) -> AutoAllocation:
    """Allocate stock to the untracked, non-consumable lines that still need some.

    A line is served only when exactly one stock item could serve it, unless
    ``interchangeable`` (then items are taken in priority order until the line is
    covered). ``location`` narrows the search to that location and below (within
    the build's source location). Optional lines only when ``optional``.
    """
    build = lock_build(build, user)
    require_active(build, "allocate stock")
    result = AutoAllocation()
    lines = (
        build.lines.select_related("bom_item__sub_part")
        .filter(bom_item__consumable=False, bom_item__sub_part__trackable=False)
        .order_by("bom_item__sub_part__name", "pk")
    )
    if not optional:
        lines = lines.filter(bom_item__optional=False)
    for line in lines:
        needed = line.quantity - line.consumed - allocated_on_line(line)
        if needed <= 0:
            continue
        valid = valid_allocation_part_ids(line.bom_item)
        candidates = _candidates(build, line, valid, location)
        if not candidates:
            continue
        if len(candidates) > 1 and not interchangeable:
            result.ambiguous_lines.append(line)
            continue
        for item in candidates:
            take = min(needed, item.free)
            allocation = build_allocate(line=line, stock_item=item, quantity=take, user=user)
            result.allocations.append(allocation)
            result.quantity += take
            needed -= take
            if needed <= 0:
                break
    return result


@transaction.atomic
def build_trim_allocations(*, build, user) -> Decimal:
    """Reduce allocations of untracked, non-consumable lines to what the line still
    requires (newest allocations first); returns the quantity freed."""
    build = lock_build(build, user)
    require_active(build, "trim allocations")
    trimmed = ZERO
    lines = build.lines.filter(
        bom_item__consumable=False, bom_item__sub_part__trackable=False
    ).order_by("pk")
    for line in lines:
        allocations = list(line.allocations.select_for_update().order_by("-pk"))
        excess = sum((a.quantity for a in allocations), ZERO) - max(
            line.quantity - line.consumed, ZERO
        )
        for allocation in allocations:
            if excess <= 0:
                break
            if allocation.quantity <= excess:
                delete_with_history(allocation, user=user, reason="Trimmed (over-allocated)")
                excess -= allocation.quantity
                trimmed += allocation.quantity
            else:
                allocation.quantity -= excess
                save_with_history(allocation, user=user, reason=f"Trimmed {fmt(excess)}")
                trimmed += excess
                excess = ZERO
    return trimmed


def _use_line(line, quantity, user, build):
    line = lock(BuildLine, line.pk)
    line.consumed += quantity
    save_with_history(line, user=user, reason=f"Used {fmt(quantity)} in {build.reference}")


def consume_allocation(allocation, *, build, user, notes="") -> StockItem:
    """Use up an untracked allocation: the allocated quantity is split off its item
    (if the item holds more) and marked consumed by the build."""
    item = lock(StockItem, allocation.stock_item_id)
    quantity = allocation.quantity
    if quantity > item.quantity:
        raise ValidationError(
            f"{item} holds only {fmt(item.quantity)}, but {fmt(quantity)} is allocated to "
            f"{build.reference}: correct the allocation first."
        )
    if quantity < item.quantity:
        item = stock_item_split(
            item=item, quantity=quantity, user=user, notes=notes or f"For {build.reference}"
        )
    previous = item.location
    item.consumed_by = build
    item.location = None
    save_with_history(item, user=user, reason=f"Consumed by {build.reference}")
    track(
        item,
        StockHistoryCode.BUILD_CONSUMED,
        user,
        notes,
        quantity=fmt(quantity),
        previous_location=previous.pk if previous else None,
        **build_delta(build),
    )
    _use_line(allocation.build_line, quantity, user, build)
    delete_with_history(allocation, user=user, reason=f"Consumed by {build.reference}")
    return item


def install_allocation(allocation, *, build, output, user, notes="") -> StockItem:
    """Use a trackable allocation: install the allocated quantity into the output."""
    quantity = allocation.quantity
    installed = stock_item_install(
        item=allocation.stock_item,
        into=output,
        quantity=quantity,
        user=user,
        notes=notes or f"Build {build.reference}",
    )
    _use_line(allocation.build_line, quantity, user, build)
    delete_with_history(allocation, user=user, reason=f"Installed into output {output.pk}")
    return installed
