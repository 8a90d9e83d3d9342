"""Helpers shared by the inventory services: history attribution, quantities, locking."""

from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError


def save_with_history(obj, *, user, reason: str, **kwargs) -> None:
    """Save ``obj`` with the simple-history record attributed to ``user`` and ``reason``."""
    obj._history_user = user
    obj._change_reason = reason
    obj.save(**kwargs)


def delete_with_history(obj, *, user, reason: str) -> None:
    """Delete ``obj`` leaving an attributed "deleted" history record."""
    obj._history_user = user
    obj._change_reason = reason
    obj.delete()


QUANTUM = Decimal("0.00001")


def to_quantity(value, *, field: str = "quantity", allow_zero: bool = False) -> Decimal:
    """Parse a user-supplied quantity into a Decimal with at most 5 decimal places."""
    try:
        quantity = Decimal(str(value).strip())
    except (InvalidOperation, TypeError, ValueError):
        raise ValidationError({field: f"'{value}' is not a number."}) from None
    if not quantity.is_finite():
        raise ValidationError({field: f"'{value}' is not a number."})
    if quantity < 0 or (quantity == 0 and not allow_zero):
        raise ValidationError(
            {
                field: "Quantity must be greater than zero."
                if not allow_zero
                else "Quantity cannot be negative."
            }
        )
    if quantity != quantity.quantize(QUANTUM):
        raise ValidationError({field: "Quantity can have at most 5 decimal places."})
    check_quantity_fits(quantity, field=field)
    # Products such as packs × pack quantity carry extra zero decimals; store exactly 5 places.
    return quantity.quantize(QUANTUM)


# quantity columns are DECIMAL(15, 5): at most 10 digits before the point
QUANTITY_LIMIT = Decimal(10) ** 10


def check_quantity_fits(quantity: Decimal, *, field: str = "quantity") -> None:
    """Refuse a quantity the database column cannot store (instead of a database error)."""
    if abs(quantity) >= QUANTITY_LIMIT:
        raise ValidationError(
            {field: f"Quantity is too large (must be less than {QUANTITY_LIMIT:,.0f})."}
        )


def fmt(quantity: Decimal) -> str:
    """A quantity as users write it: 10, 2.5 (no trailing zeros or exponent)."""
    text = f"{Decimal(quantity).normalize():f}"
    return text


def lock(model, pk):
    """Re-read a row with a row lock held until the transaction ends (no-op on SQLite,
    whose IMMEDIATE transactions already serialise writers)."""
    try:
        return model.objects.select_for_update().get(pk=pk)
    except model.DoesNotExist:
        raise ValidationError(
            f"This {model._meta.verbose_name} no longer exists (deleted by someone else?)."
        ) from None


def prepare_tree_node_delete(node, *, members_exist: bool, members: str) -> None:
    """Check that ``node``'s children and members can move up to its parent, then free its name.

    Refuses (ValidationError) when a child would clash by name with a node already at the
    parent's level, or when members would land in a structural parent. The node's name is
    then set aside (it can never clash: real names cannot contain "/"), so that a child
    called like the node itself can take its place.
    """
    model = type(node)
    parent = node.parent
    siblings = model.objects.filter(parent=parent).exclude(pk=node.pk)
    taken = {name.lower() for name in siblings.values_list("name", flat=True)}
    clashes = sorted(c.name for c in node.children.all() if c.name.lower() in taken)
    if clashes:
        where = f"'{parent}'" if parent else "the top level"
        raise ValidationError(
            f"Cannot delete '{node}': {', '.join(clashes)} would move to {where}, "
            "which already has an entry with that name. Rename or move them first."
        )
    if members_exist and parent is not None and parent.structural:
        raise ValidationError(
            f"Cannot delete '{node}': its {members} would move to '{parent}', which is "
            "structural. Move them first."
        )
    model.objects.filter(pk=node.pk).update(name=f"/deleted/{node.pk}")
