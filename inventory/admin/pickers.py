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


STRUCTURAL_REFUSAL = (
    "Choose a location that is not structural (its sub-locations hold the stock), and that "
    "still exists."
)


def placeable_location_field(*, source=None, **kwargs):
    """A form field choosing where stock goes: structural locations are neither offered (the
    autocomplete of ``source``, a (model, field) where stock goes: see
    ``inventory.admin.locations.PLACEMENT_SOURCES``) nor accepted (a field error)."""
    from django import forms

    from admin_customisations.actions import autocomplete
    from inventory.models import StockItem
    from inventory.selectors import placeable_locations

    model, field = source or (StockItem, "location")
    return forms.ModelChoiceField(
        placeable_locations(),
        widget=autocomplete(model, field),
        error_messages={"invalid_choice": STRUCTURAL_REFUSAL},
        **kwargs,
    )
