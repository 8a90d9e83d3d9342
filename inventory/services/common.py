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
    if quantity != quantity.quantize(Decimal("0.00001")):
        raise ValidationError({field: "Quantity can have at most 5 decimal places."})
    return quantity


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
