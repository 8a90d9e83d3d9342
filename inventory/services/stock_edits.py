"""Editing a stock item's descriptive fields (not quantity, place or status: those have services)."""

from django.core.exceptions import ValidationError
from django.db import transaction

from inventory.choices import StockHistoryCode
from inventory.models import StockItem
from inventory.permissions import check_stock_ownership
from inventory.services.common import (
    check_item_changeable,
    lock,
    save_with_history,
    track_stock,
)

EDITABLE_FIELDS = (
    "batch",
    "expiry_date",
    "purchase_price",
    "purchase_price_currency",
    "notes",
    "delete_on_deplete",
)


@transaction.atomic
def stock_item_update(*, item, user, **changes) -> StockItem:
    """Change descriptive fields of an item; records one EDITED entry listing what changed."""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError(
            f"These fields cannot be edited directly: {', '.join(sorted(unknown))}."
        )
    item = lock(StockItem, item.pk)
    check_item_changeable(item, "edit")
    check_stock_ownership(user, item.location)
    changed = {}
    for field, value in changes.items():
        if getattr(item, field) != value:
            changed[field] = str(value) if value is not None else None
            setattr(item, field, value)
    if not changed:
        return item
    item.full_clean()
    save_with_history(item, user=user, reason="Edited: " + ", ".join(changed))
    track_stock(item, StockHistoryCode.EDITED, user=user, deltas=changed)
    return item
