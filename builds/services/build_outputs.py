"""Build services for outputs: the stock items a build produces.

An output is a StockItem with ``build`` set and ``is_building=True`` (so it is not
in stock) until it is completed (available stock at the destination, counted in
``build.completed``) or scrapped (status Rejected, not counted).
"""

from django.core.exceptions import ValidationError
from django.db import transaction

from builds.choices import BuildStatus
from builds.models import BuildItem
from builds.services.build_common import (
    ZERO,
    build_delta,
    check_location,
    location_delta,
    lock_build,
    lock_items,
    output_of,
    require_active,
    require_status,
    track,
    whole_number,
)
from builds.services.build_stock import install_allocation
from inventory.choices import AVAILABLE_STATUSES, StockHistoryCode, StockStatus
from inventory.models import StockItem
from inventory.services.common import (
    delete_with_history,
    fmt,
    save_with_history,
    to_quantity,
)
from inventory.services.stock import stock_item_create, stock_item_split

H = StockHistoryCode


@transaction.atomic
def build_output_create(
    *, build, quantity, user, serials="", batch="", location=None, notes=""
) -> list[StockItem]:
    """Create outputs (in production) for ``build``: one item, or one per serial number
    (required when the assembly is trackable). A pending build moves to production."""
    build = lock_build(build, user)
    require_status(build, {BuildStatus.PENDING, BuildStatus.PRODUCTION}, "create outputs")
    quantity = whole_number(to_quantity(quantity))
    part = build.part
    serials = serials.strip() if isinstance(serials, str) else serials
    if part.trackable and not serials:
        raise ValidationError(
            {"serials": f"'{part}' is trackable: enter a serial number for each output."}
        )
    check_location(location)
    items = stock_item_create(
        part=part,
        quantity=quantity,
        user=user,
        location=location or build.destination,
        serials=serials or "",
        batch=batch or build.batch,
        notes=notes,
    )
    for item in items:
        item.build = build
        item.is_building = True
        save_with_history(item, user=user, reason=f"Output of {build.reference}")
        track(
            item,
            H.BUILD_OUTPUT_CREATED,
            user,
            notes,
            quantity=fmt(item.quantity),
            **build_delta(build),
        )
    if build.status == BuildStatus.PENDING:
        build.status = BuildStatus.PRODUCTION
        build.issued_by = build.issued_by or (user if getattr(user, "pk", None) else None)
        save_with_history(build, user=user, reason="Production started (first output created)")
    return items


def _requested(output, quantity, doing) -> int:
    """The quantity to finish: the whole output by default, else a whole number up to it."""
    if quantity is None or quantity == "":
        return whole_number(output.quantity)
    quantity = whole_number(to_quantity(quantity))
    if quantity > output.quantity:
        raise ValidationError(
            {"quantity": f"{output} is only {fmt(output.quantity)}: cannot {doing} {quantity}."}
        )
    return quantity


def _split_off(output, quantity, user, doing) -> StockItem:
    """The output itself, or ``quantity`` split off it (only when nothing is allocated to it)."""
    if quantity == output.quantity:
        return output
    if output.output_allocations.exists():
        raise ValidationError(
            {
                "quantity": f"{output} has stock allocated to it: {doing} the whole output, "
                "or unallocate its stock first."
            }
        )
    return stock_item_split(item=output, quantity=quantity, user=user, notes=f"To {doing}")


def _tracked_shortfalls(build, output, quantity) -> list[str]:
    """Trackable, required lines whose stock for this output is not fully allocated."""
    allocated = {}
    for line_id, qty in BuildItem.objects.filter(install_into=output).values_list(
        "build_line_id", "quantity"
    ):
        allocated[line_id] = allocated.get(line_id, ZERO) + qty
    missing = []
    lines = build.lines.select_related("bom_item__sub_part").filter(
        bom_item__sub_part__trackable=True, bom_item__optional=False, bom_item__consumable=False
    )
    for line in lines:
        needed = line.bom_item.quantity * quantity
        have = allocated.get(line.pk, ZERO)
        if have < needed:
            missing.append(f"{line.bom_item.sub_part} ({fmt(have)} of {fmt(needed)})")
    return missing


@transaction.atomic
def build_output_complete(
    *,
    build,
    output,
    user,
    location=None,
    status=StockStatus.OK,
    quantity=None,
    notes="",
    accept_unallocated=False,
) -> StockItem:
    """Finish an output (or ``quantity`` of it): trackable components allocated to it are
    installed into it, it becomes available stock at ``location`` (default: the build's
    destination, else where the output is, else ``part.get_default_location()``) and counts
    towards ``build.completed``."""
    build = lock_build(build, user)
    require_status(build, {BuildStatus.PRODUCTION}, "complete outputs")
    output = output_of(build, output)
    try:
        status = StockStatus(int(status))
    except (TypeError, ValueError):
        raise ValidationError({"status": f"'{status}' is not a stock status."}) from None
    if status not in AVAILABLE_STATUSES:
        raise ValidationError(
            {"status": "A completed output must be available stock; to reject it, scrap it."}
        )
    location = location or build.destination or output.location or build.part.get_default_location()
    if location is None:
        raise ValidationError(
            {"location": "Choose where the completed output goes (the build has no destination)."}
        )
    check_location(location)
    quantity = _requested(output, quantity, "complete")
    if not accept_unallocated:
        missing = _tracked_shortfalls(build, output, quantity)
        if missing:
            raise ValidationError(
                f"{output} is missing trackable components: {'; '.join(missing)}. Allocate "
                "them to this output, or accept the output without them."
            )
    output = _split_off(output, quantity, user, "complete")
    allocations = list(output.output_allocations.select_related("build_line").order_by("pk"))
    lock_items(a.stock_item_id for a in allocations)
    for allocation in allocations:
        install_allocation(allocation, build=build, output=output, user=user, notes=notes)
    output.is_building = False
    output.location = location
    output.status = status
    save_with_history(output, user=user, reason=f"Output of {build.reference} completed")
    track(
        output,
        H.BUILD_OUTPUT_COMPLETED,
        user,
        notes,
        quantity=fmt(quantity),
        status=int(status),
        **build_delta(build),
        **location_delta(location),
    )
    build.completed += quantity
    save_with_history(build, user=user, reason=f"{quantity} completed")
    return output


@transaction.atomic
def build_output_scrap(
    *, build, output, user, location=None, quantity=None, notes="", discard_allocations=False
) -> StockItem:
    """Reject an output (or ``quantity`` of it): status Rejected, no longer in production,
    not counted as completed. Components allocated to it are installed into it (they
    were used) unless ``discard_allocations``, which frees them instead."""
    build = lock_build(build, user)
    require_active(build, "scrap outputs")
    output = output_of(build, output)
    check_location(location)
    quantity = _requested(output, quantity, "scrap")
    output = _split_off(output, quantity, user, "scrap")
    allocations = list(output.output_allocations.select_related("build_line").order_by("pk"))
    lock_items(a.stock_item_id for a in allocations)
    for allocation in allocations:
        if discard_allocations:
            delete_with_history(allocation, user=user, reason="Output scrapped: unallocated")
        else:
            install_allocation(allocation, build=build, output=output, user=user, notes=notes)
    output.is_building = False
    output.status = StockStatus.REJECTED
    if location is not None:
        output.location = location
    save_with_history(output, user=user, reason=f"Output of {build.reference} scrapped")
    track(
        output,
        H.BUILD_OUTPUT_REJECTED,
        user,
        notes,
        quantity=fmt(quantity),
        status=int(StockStatus.REJECTED),
        **build_delta(build),
        **location_delta(output.location),
    )
    return output


@transaction.atomic
def build_output_delete(*, build, output, user) -> None:
    """Delete an output still in production (its allocations are freed)."""
    build = lock_build(build, user)
    output = output_of(build, output)
    for allocation in output.output_allocations.order_by("pk"):
        delete_with_history(allocation, user=user, reason="Output deleted: unallocated")
    delete_with_history(output, user=user, reason=f"Output of {build.reference} deleted")


def delete_outputs_in_production(build, user) -> int:
    """Used by cancel: delete every output of ``build`` still in production."""
    outputs = list(StockItem.objects.filter(build=build, is_building=True).order_by("pk"))
    for output in outputs:
        for allocation in output.output_allocations.order_by("pk"):
            delete_with_history(allocation, user=user, reason="Build cancelled: unallocated")
        delete_with_history(output, user=user, reason=f"{build.reference} cancelled")
    return len(outputs)
