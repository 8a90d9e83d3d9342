"""Stock services for many items at once (status change, whole-item move), for bulk jobs.

They apply exactly the rules of their one-item counterparts in ``stock.py`` (same checks,
same messages, same tracking entries and history reasons) but write with a handful of
queries per batch instead of a handful per item: rows locked together, one ``UPDATE`` per
changed field set, history and tracking rows inserted in bulk, the part figures refreshed
once. An item a rule refuses is reported, not raised, so the other items go ahead.
"""

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from inventory.choices import StockHistoryCode
from inventory.figures import refresh_item_figures
from inventory.models import StockItem, StockItemTracking
from inventory.permissions import OwnershipRules, check_stock_ownership, ownership_enabled
from inventory.services.common import check_item_changeable, with_reason_suffix
from inventory.services.stock import _check_in_stock, _check_location, _location_delta, _to_status

H = StockHistoryCode


@dataclass
class BulkOutcome:
    """Per item: changed, skipped (already so, with why) or refused (with the rule's message)."""

    changed: list[int] = field(default_factory=list)
    skipped: dict[int, str] = field(default_factory=dict)
    refused: dict[int, str] = field(default_factory=dict)


def _locked(items):
    ids = [item.pk for item in items]
    # of=("self",): PostgreSQL cannot lock the nullable side of the outer join to location
    locked = StockItem.objects.select_for_update(of=("self",)).select_related("location", "part")
    return list(locked.filter(pk__in=ids).order_by("pk"))


def _refusal(error: ValidationError) -> str:
    return " ".join(error.messages)


def _write(items, fields, *, user, reason, tracking):
    """Set ``fields`` of ``items`` (one value per field for all of them) with history, add their
    tracking rows, refresh figures.

    One ``UPDATE … WHERE id IN (…)`` per batch: ``bulk_update``'s per-row CASE expression
    costs SQLite time quadratic in the batch size."""
    if not items:
        return
    now = timezone.now()
    values = {name: getattr(items[0], StockItem._meta.get_field(name).attname) for name in fields}
    for item in items:
        item.updated = now  # auto_now is not applied by bulk updates
    ids = [item.pk for item in items]
    for start in range(0, len(ids), 500):
        StockItem.objects.filter(pk__in=ids[start : start + 500]).update(
            **{StockItem._meta.get_field(n).attname: v for n, v in values.items()}, updated=now
        )
    StockItem.history.bulk_history_create(
        items,
        update=True,  # "~" changed, not "+" created
        batch_size=500,
        default_user=user,
        default_change_reason=with_reason_suffix(reason),
        default_date=now,
    )
    StockItemTracking.objects.bulk_create(tracking, batch_size=500)
    refresh_item_figures(items)


def _tracking(item, code, user, notes, **deltas):
    return StockItemTracking(
        item=item,
        tracking_type=code,
        user=user if getattr(user, "pk", None) else None,
        notes=notes,
        deltas=deltas,
    )


@transaction.atomic
def stock_items_change_status(*, items, status, user, notes="") -> BulkOutcome:
    """``stock_item_change_status`` for many items."""
    status = _to_status(status)
    outcome = BulkOutcome()
    rules = OwnershipRules(user) if ownership_enabled() else None
    changed, tracking = [], []
    for item in _locked(items):
        if item.status == status:
            outcome.skipped[item.pk] = f"{item} is already {status.label}."
            continue
        try:
            check_item_changeable(item, "status")
            check_stock_ownership(user, item.location, rules=rules)
        except ValidationError as error:
            outcome.refused[item.pk] = _refusal(error)
            continue
        previous = item.status
        item.status = status
        changed.append(item)
        tracking.append(
            _tracking(item, H.EDITED, user, notes, status=int(status), previous_status=previous)
        )
    _write(
        changed,
        ["status"],
        user=user,
        reason=f"Status changed to {status.label}",
        tracking=tracking,
    )
    outcome.changed = [item.pk for item in changed]
    return outcome


@transaction.atomic
def stock_items_move(*, items, location, user, notes="") -> BulkOutcome:
    """``stock_item_move`` of whole items for many items (no quantity: nothing is split)."""
    _check_location(location, user)
    outcome = BulkOutcome()
    rules = OwnershipRules(user) if ownership_enabled() else None
    changed, tracking = [], []
    for item in _locked(items):
        if item.location_id == location.pk:
            outcome.skipped[item.pk] = f"{item} is already in {location}."
            continue
        try:
            check_item_changeable(item, "move")
            check_stock_ownership(user, item.location, rules=rules)
            _check_in_stock(item, "moved")
        except ValidationError as error:
            outcome.refused[item.pk] = _refusal(error)
            continue
        previous = item.location
        item.location = location
        changed.append(item)
        tracking.append(
            _tracking(
                item,
                H.STOCK_MOVE,
                user,
                notes,
                **_location_delta(location),
                previous_location=previous.pk if previous else None,
                previous_location_path=previous.pathstring if previous else "",
            )
        )
    _write(
        changed,
        ["location"],
        user=user,
        reason=f"Moved to {location.pathstring}",
        tracking=tracking,
    )
    outcome.changed = [item.pk for item in changed]
    return outcome
