"""Build order services: every change to a build order goes through these functions.

Each is atomic, re-reads the build under a row lock, validates with messages a
back-office user understands (raising ValidationError and changing nothing),
writes stock tracking entries for stock it touches, and attributes history to
``user``. Lifecycle (here), stock allocation (``build_stock``) and outputs
(``build_outputs``) live in separate modules; all are importable from here.

Status flow: Pending → (issue) Production ⇄ (hold / issue) On hold; any active
status → Cancelled; Production → Complete. Creating the first output also moves a
pending build to production.
"""

import math
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from builds.choices import ACTIVE_BUILD_STATUSES, BuildStatus
from builds.models import BuildItem, BuildLine, BuildOrder
from builds.selectors.bom import bom_lines, required_quantity, valid_allocation_part_ids
from builds.selectors.build import free_stock_by_part
from builds.services.build_common import (
    ZERO,
    allocated_on_line,
    check_location,
    lock_build,
    lock_items,
    require_active,
    require_status,
    whole_number,
)
from builds.services.build_outputs import (
    build_output_complete,
    build_output_create,
    build_output_delete,
    build_output_scrap,
    delete_outputs_in_production,
)
from builds.services.build_stock import (
    AutoAllocation,
    build_allocate,
    build_auto_allocate,
    build_trim_allocations,
    build_unallocate,
    consume_allocation,
)
from builds.services.references import save_with_reference
from inventory.models import StockItem
from inventory.services.common import delete_with_history, fmt, save_with_history, to_quantity

__all__ = [
    "AutoAllocation",
    "build_allocate",
    "build_auto_allocate",
    "build_create_child_builds",
    "build_order_cancel",
    "build_order_complete",
    "build_order_create",
    "build_order_delete",
    "build_order_hold",
    "build_order_issue",
    "build_order_set_quantity",
    "build_order_update",
    "build_order_update_lines",
    "build_output_complete",
    "build_output_create",
    "build_output_delete",
    "build_output_scrap",
    "build_trim_allocations",
    "build_unallocate",
]

# Fields ``build_order_update`` may change (part, quantity, status and dates have their own services).
EDITABLE_FIELDS = (
    "title",
    "take_from",
    "destination",
    "parent",
    "sales_order",
    "target_date",
    "batch",
    "responsible_user",
    "responsible_group",
    "notes",
)


PLACES = Decimal("0.00001")  # quantity columns have 5 decimal places


def _acting(user):
    return user if getattr(user, "pk", None) else None


def _build_quantity(quantity) -> int:
    quantity = whole_number(to_quantity(quantity), what="A build makes whole assemblies")
    if quantity > 2**31 - 1:
        raise ValidationError({"quantity": "Quantity is too large."})
    return quantity


def _check_part(part) -> None:
    if part is None:
        raise ValidationError({"part": "Choose the assembly to build."})
    if not part.assembly:
        raise ValidationError({"part": f"'{part}' is not an assembly: it cannot be built."})
    if not part.active:
        raise ValidationError({"part": f"'{part}' is inactive: reactivate it before building it."})
    if part.virtual:
        raise ValidationError({"part": f"'{part}' is virtual: it holds no stock to build."})


def _check_parent(build, parent) -> None:
    """A build cannot be its own ancestor."""
    seen = set()
    current = parent
    while current is not None and current.pk not in seen:
        if build.pk is not None and current.pk == build.pk:
            raise ValidationError({"parent": "A build order cannot be a child of itself."})
        seen.add(current.pk)
        current = current.parent


def _sync_lines(build, user) -> None:
    """One line per non-virtual BOM line of the part (inherited lines included), with the
    required quantity for the build quantity; lines no longer in the BOM are removed
    when nothing was allocated to or used from them."""
    existing = {line.bom_item_id: line for line in build.lines.all()}
    wanted = set()
    for bom_item in bom_lines(build.part):
        if bom_item.sub_part.virtual:
            continue
        wanted.add(bom_item.pk)
        quantity = Decimal(required_quantity(bom_item, build.quantity)).quantize(PLACES)
        line = existing.get(bom_item.pk)
        if line is None:
            line = BuildLine(build=build, bom_item=bom_item, quantity=quantity)
            save_with_history(line, user=user, reason="Line from the BOM")
        elif line.quantity != quantity:
            line.quantity = quantity
            save_with_history(line, user=user, reason=f"Build quantity {build.quantity}")
    for bom_item_id, line in existing.items():
        if bom_item_id not in wanted and line.consumed == 0 and not line.allocations.exists():
            delete_with_history(line, user=user, reason="No longer in the BOM")


@transaction.atomic
def build_order_create(
    *,
    part,
    quantity,
    user,
    title="",
    reference=None,
    take_from=None,
    destination=None,
    parent=None,
    target_date=None,
    batch="",
    responsible_user=None,
    responsible_group=None,
    notes="",
    sales_order=None,
) -> BuildOrder:
    """Create a pending build order with one line per BOM line.

    ``reference`` defaults to the next one from BUILD_REFERENCE_PATTERN; the destination
    to ``part.get_default_location()`` (the part's, then its category's, then the nearest
    ancestor category's default location; none if that one is structural).
    """
    _check_part(part)
    quantity = _build_quantity(quantity)
    check_location(destination, "destination")
    if destination is None:
        destination = part.get_default_location()
        if destination is not None and destination.structural:
            destination = None
    build = BuildOrder(
        part=part,
        quantity=quantity,
        title=title or "",
        take_from=take_from,
        destination=destination,
        parent=parent,
        sales_order=sales_order,
        target_date=target_date,
        batch=batch or "",
        responsible_user=responsible_user,
        responsible_group=responsible_group,
        notes=notes or "",
        status=BuildStatus.PENDING,
    )
    if parent is not None:
        _check_parent(build, parent)
    build.reference = "-"
    build.full_clean(exclude=["reference", "reference_int"])
    save_with_reference(
        build, lambda: save_with_history(build, user=user, reason="Created"), reference
    )
    _sync_lines(build, user)
    return build


@transaction.atomic
def build_order_update(*, build, user, **changes) -> BuildOrder:
    """Change descriptive fields (title, locations, parent, target date, batch,
    responsible, notes)."""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError(f"These fields cannot be changed here: {', '.join(sorted(unknown))}.")
    build = lock_build(build, user)
    changed = [f for f, value in changes.items() if getattr(build, f) != value]
    if not changed:
        return build
    for name in changed:
        setattr(build, name, changes[name] if changes[name] is not None else _blank(name))
    check_location(build.destination, "destination")
    _check_parent(build, build.parent)
    build.full_clean()
    save_with_history(build, user=user, reason="Edited: " + ", ".join(changed))
    return build


def _blank(name):
    return (
        ""
        if BuildOrder._meta.get_field(name).get_internal_type()
        in {
            "CharField",
            "TextField",
        }
        else None
    )


@transaction.atomic
def build_order_set_quantity(*, build, quantity, user) -> BuildOrder:
    """Change how many assemblies to build; every line's required quantity is recomputed."""
    build = lock_build(build, user)
    require_active(build, "change the quantity")
    quantity = _build_quantity(quantity)
    if quantity < build.completed:
        raise ValidationError(
            {"quantity": f"{build.completed} are already completed: the quantity cannot be less."}
        )
    if quantity != build.quantity:
        previous = build.quantity
        build.quantity = quantity
        save_with_history(build, user=user, reason=f"Quantity {previous} → {quantity}")
        _sync_lines(build, user)
    return build


@transaction.atomic
def build_order_update_lines(*, build, user) -> BuildOrder:
    """Bring an active build's lines in line with the current BOM (after BOM edits)."""
    build = lock_build(build, user)
    require_active(build, "update its lines")
    _sync_lines(build, user)
    return build


@transaction.atomic
def build_orders_follow_bom(*, part_ids, user) -> int:
    """After a BOM edit, re-sync the lines of every active build of these assemblies (R20).

    Triggered by whoever edits the BOM, so the builds' responsibility rule does not apply.
    Returns how many builds were updated.
    """
    builds = list(
        BuildOrder.objects.active().filter(part_id__in=list(part_ids)).select_for_update()
    )
    for build in builds:
        _sync_lines(build, user)
    return len(builds)


@transaction.atomic
def build_order_issue(*, build, user) -> BuildOrder:
    """Start (or resume) production: Pending or On hold → Production."""
    build = lock_build(build, user)
    require_status(build, {BuildStatus.PENDING, BuildStatus.ON_HOLD}, "be issued")
    build.status = BuildStatus.PRODUCTION
    build.issued_by = build.issued_by or _acting(user)
    save_with_history(build, user=user, reason="Issued")
    return build


@transaction.atomic
def build_order_hold(*, build, user) -> BuildOrder:
    """Pause: Pending or Production → On hold (allocations and outputs are kept)."""
    build = lock_build(build, user)
    require_status(build, {BuildStatus.PENDING, BuildStatus.PRODUCTION}, "be put on hold")
    build.status = BuildStatus.ON_HOLD
    save_with_history(build, user=user, reason="Put on hold")
    return build


@transaction.atomic
def build_order_cancel(*, build, user, delete_outputs=False) -> BuildOrder:
    """Cancel an active build: every allocation is removed (stock stays where it is);
    with ``delete_outputs`` the outputs still in production are deleted too."""
    build = lock_build(build, user)
    require_active(build, "be cancelled")
    if delete_outputs:
        delete_outputs_in_production(build, user)
    for allocation in BuildItem.objects.filter(build_line__build=build).order_by("pk"):
        delete_with_history(allocation, user=user, reason=f"{build.reference} cancelled")
    build.status = BuildStatus.CANCELLED
    build.completed_at = timezone.now()
    build.completed_by = _acting(user)
    save_with_history(build, user=user, reason="Cancelled")
    return build


def _unallocated_lines(build) -> list[str]:
    lines = build.lines.select_related("bom_item__sub_part").filter(
        bom_item__sub_part__trackable=False, bom_item__consumable=False, bom_item__optional=False
    )
    short = []
    for line in lines.order_by("bom_item__sub_part__name", "pk"):
        have = allocated_on_line(line) + line.consumed
        if have < line.quantity:
            short.append(f"{line.bom_item.sub_part} ({fmt(have)} of {fmt(line.quantity)})")
    return short


@transaction.atomic
def build_order_complete(
    *, build, user, accept_incomplete=False, accept_unallocated=False
) -> BuildOrder:
    """Complete a build in production: no outputs may still be in production, the
    quantity must be reached (or ``accept_incomplete``), and every required untracked
    line fully allocated (or ``accept_unallocated``). The untracked allocated stock is
    consumed: split off to exactly the allocated quantity and marked consumed."""
    build = lock_build(build, user)
    require_status(build, {BuildStatus.PRODUCTION}, "be completed")
    building = StockItem.objects.filter(build=build, is_building=True).count()
    if building:
        raise ValidationError(
            f"{building} output{'s are' if building > 1 else ' is'} still in production: "
            "complete, scrap or delete them first."
        )
    if build.remaining and not accept_incomplete:
        raise ValidationError(
            f"Only {build.completed} of {build.quantity} are built. Build the rest, or "
            "accept completing the build with fewer."
        )
    if not accept_unallocated:
        short = _unallocated_lines(build)
        if short:
            raise ValidationError(
                "Not all required stock is allocated: " + "; ".join(short) + ". Allocate it, "
                "or accept completing with what is allocated."
            )
    if getattr(settings, "BUILDORDER_REQUIRE_CLOSED_CHILDS", True):
        open_children = list(
            build.children.filter(status__in=ACTIVE_BUILD_STATUSES).values_list(
                "reference", flat=True
            )
        )
        if open_children:
            raise ValidationError(
                f"Child build orders are still open: {', '.join(sorted(open_children))}. "
                "Complete or cancel them first."
            )
    allocations = list(
        BuildItem.objects.filter(build_line__build=build)
        .select_related("build_line")
        .order_by("pk")
    )
    lock_items(a.stock_item_id for a in allocations)
    for allocation in allocations:
        if allocation.install_into_id is None:
            consume_allocation(allocation, build=build, user=user)
        else:  # a trackable leftover: its output is gone (scrapped or deleted)
            delete_with_history(allocation, user=user, reason=f"{build.reference} completed")
    build.status = BuildStatus.COMPLETE
    build.completed_at = timezone.now()
    build.completed_by = _acting(user)
    save_with_history(build, user=user, reason="Completed")
    return build


@transaction.atomic
def build_order_delete(*, build, user) -> None:
    """Delete a build order that never produced or used anything."""
    build = lock_build(build, user)
    if StockItem.objects.filter(build=build).exists():
        raise ValidationError(f"{build.reference} has outputs: cancel it instead of deleting it.")
    if StockItem.objects.filter(consumed_by=build).exists():
        raise ValidationError(f"{build.reference} used stock: it cannot be deleted.")
    for allocation in BuildItem.objects.filter(build_line__build=build).order_by("pk"):
        delete_with_history(allocation, user=user, reason=f"{build.reference} deleted")
    for line in build.lines.order_by("pk"):
        delete_with_history(line, user=user, reason=f"{build.reference} deleted")
    delete_with_history(build, user=user, reason="Deleted")


@transaction.atomic
def build_create_child_builds(*, build, user) -> list[BuildOrder]:
    """Create child build orders for the sub-assembly lines whose unallocated
    requirement is not covered by available stock and open child builds.

    For each line whose component is an assembly: short = still needed (required −
    used − allocated) − available stock − what open child builds of this build will
    still make of it. A child build of ⌈short⌉ is created (targeting the same date,
    delivering to this build's source location). Running it again creates nothing new.
    """
    build = lock_build(build, user)
    require_active(build, "create child builds")
    lines = (
        build.lines.select_related("bom_item__sub_part")
        .filter(
            bom_item__sub_part__assembly=True,
            bom_item__sub_part__virtual=False,
            bom_item__consumable=False,
        )
        .order_by("bom_item__sub_part__name", "pk")
    )
    pending = {}
    for part_id, quantity, completed in build.children.filter(
        status__in=ACTIVE_BUILD_STATUSES
    ).values_list("part_id", "quantity", "completed"):
        pending[part_id] = pending.get(part_id, 0) + max(quantity - completed, 0)
    destination = build.take_from if build.take_from_id and not build.take_from.structural else None
    created = []
    for line in lines:
        needed = line.quantity - line.consumed - allocated_on_line(line)
        if needed <= 0:
            continue
        component = line.bom_item.sub_part
        free = free_stock_by_part(
            valid_allocation_part_ids(line.bom_item),
            build.take_from if build.take_from_id else None,
        )
        short = needed - max(sum(free.values(), ZERO), ZERO)
        short -= pending.get(component.pk, 0)
        if short <= 0:
            continue
        quantity = math.ceil(short)
        child = build_order_create(
            part=component,
            quantity=quantity,
            user=user,
            title=f"Sub-assembly for {build.reference}",
            parent=build,
            destination=destination,
            target_date=build.target_date,
            responsible_user=build.responsible_user,
            responsible_group=build.responsible_group,
        )
        pending[component.pk] = pending.get(component.pk, 0) + quantity
        created.append(child)
    return created
