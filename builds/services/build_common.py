"""Helpers shared by the build services: locking, status checks, stock tracking, figures."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import Sum

from builds.choices import ACTIVE_BUILD_STATUSES, BuildStatus
from builds.models import BuildOrder
from inventory.allocations import allocated_by_item
from inventory.models import StockItem, StockItemTracking
from inventory.responsibility import check_responsible
from inventory.services.common import lock, track_stock

ZERO = Decimal(0)


def lock_build(build, user) -> BuildOrder:
    """Re-read the build under a row lock: every build service starts here, so two
    operations on the same build run one after the other. Users the responsibility
    rule excludes (inventory.responsibility) are refused here."""
    build = lock(BuildOrder, build.pk)
    check_responsible(build, user)
    return build


def require_status(build, allowed, doing: str) -> None:
    """Refuse unless the build's status is one of ``allowed``."""
    if build.status in allowed:
        return
    status = BuildStatus(build.status).label.lower()
    hint = ""
    if build.status == BuildStatus.ON_HOLD and BuildStatus.PRODUCTION in allowed:
        hint = " Issue it again to resume production first."
    elif build.status == BuildStatus.PENDING and BuildStatus.PRODUCTION in allowed:
        hint = " Issue it first."
    raise ValidationError(f"Build order {build.reference} is {status}: cannot {doing}.{hint}")


def require_active(build, doing: str) -> None:
    require_status(build, ACTIVE_BUILD_STATUSES, doing)


def lock_items(pks) -> None:
    """Lock stock item rows in id order before changing several of them: two builds
    using the same items then queue instead of deadlocking."""
    list(StockItem.objects.select_for_update().filter(pk__in=list(pks)).order_by("pk"))


def output_of(build, output) -> StockItem:
    """``output`` re-read under a lock, refused unless it is this build's and in production."""
    output = lock(StockItem, output.pk)
    if output.build_id != build.pk:
        raise ValidationError({"output": f"{output} is not an output of {build.reference}."})
    if not output.is_building:
        raise ValidationError({"output": f"{output} is no longer in production."})
    return output


def track(item, code, user, notes="", **deltas) -> StockItemTracking:
    """One stock tracking entry (the same shape the stock services write)."""
    return track_stock(item, code, user=user, notes=notes, deltas=deltas)


def build_delta(build) -> dict:
    return {"buildorder": build.pk, "buildorder_reference": build.reference}


def location_delta(location) -> dict:
    if location is None:
        return {"location": None}
    return {"location": location.pk, "location_path": location.pathstring}


def check_location(location, field="location") -> None:
    if location is not None and location.structural:
        raise ValidationError(
            {field: f"'{location}' is structural: choose one of its sub-locations."}
        )


def whole_number(quantity, field="quantity", what="Build outputs are whole assemblies") -> int:
    if quantity != int(quantity):
        raise ValidationError({field: f"{what}: use a whole number."})
    return int(quantity)


def allocated_on_item(item_pk) -> Decimal:
    """How much of a stock item is held by allocations: builds and sales orders alike
    (every source registered in ``inventory.allocations``)."""
    return allocated_by_item([item_pk]).get(item_pk, ZERO)


def allocated_on_line(line) -> Decimal:
    total = line.allocations.aggregate(t=Sum("quantity"))["t"]
    return total or ZERO


def is_tracked_line(line) -> bool:
    """Trackable components are allocated to (and installed in) one build output."""
    return line.bom_item.sub_part.trackable
