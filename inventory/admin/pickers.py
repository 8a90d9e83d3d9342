"""What stock pickers show: an item's part, place and available quantity."""

from inventory.services.common import fmt


def stock_item_label(item) -> str:
    """E.g. "Resistor 10k · Shelf A/B-3 · 120 available (batch X)" (``free``: the
    ``allocatable_items`` annotation; without it the item's quantity)."""
    what = f"{item.part.name} #{item.serial}" if item.is_serialized else item.part.name
    place = item.location.pathstring if item.location_id else "no location"
    free = getattr(item, "free", None)
    amount = f"{fmt(item.quantity if free is None else free)} available"
    batch = f" (batch {item.batch})" if item.batch else ""
    return f"{what} · {place} · {amount}{batch}"
