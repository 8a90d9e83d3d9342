"""Helpers shared by the order services: references, status transitions, responsibility."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from inventory.responsibility import check_responsible, may_change_responsible
from inventory.services.common import lock, save_with_history
from orders.models.references import next_reference, validate_reference

DEFAULT_PATTERNS = {
    "PURCHASE_ORDER_REFERENCE_PATTERN": "PO-{ref:04d}",
    "SALES_ORDER_REFERENCE_PATTERN": "SO-{ref:04d}",
    "RETURN_ORDER_REFERENCE_PATTERN": "RMA-{ref:04d}",
}


def reference_pattern(model) -> str:
    """The configured reference pattern for an order model (settings override the defaults)."""
    return getattr(settings, model.REFERENCE_SETTING, DEFAULT_PATTERNS[model.REFERENCE_SETTING])


def order_save_new(order, *, user, reference: str | None = None, attempts: int = 5):
    """Validate and insert a new order with the given or the next free reference.

    Two users creating orders at once may compute the same next reference; the
    unique constraint catches it and the next number is tried.
    """
    model = type(order)
    pattern = reference_pattern(model)
    for _ in range(attempts):
        order.reference = reference or next_reference(model, pattern)
        validate_reference(order.reference, pattern)
        order.created_by = user if getattr(user, "pk", None) else None
        order.full_clean()
        try:
            with transaction.atomic():
                save_with_history(order, user=user, reason="Created")
            return order
        except IntegrityError:
            if reference:
                raise ValidationError(
                    {"reference": f"Reference {reference} is already in use."}
                ) from None
            order.pk = None
    raise ValidationError("Could not allocate a free order reference; please try again.")


def order_transition(order, *, to, allowed_from, user, verb: str, **changes):
    """Move an order to status ``to`` if its current status allows; history records who and why."""
    model = type(order)
    order = lock_order(model, order.pk, user)
    if order.status not in allowed_from:
        allowed = " or ".join(
            label
            for value, label in model._meta.get_field("status").choices
            if value in allowed_from
        )
        raise ValidationError(
            f"{order.reference} is {order.get_status_display()}: it can only be {verb} when {allowed}."
        )
    order.status = to
    for field, value in changes.items():
        setattr(order, field, value)
    label = dict(model._meta.get_field("status").choices)[to]
    save_with_history(order, user=user, reason=f"{verb.capitalize()} ({label})")
    return order


def may_change_order(order, user) -> bool:
    """Whether ``user`` may change or transition ``order`` (see inventory.responsibility)."""
    return may_change_responsible(order, user)


def lock_order(model, pk, user):
    """Re-read an order under a row lock, refusing users the responsibility rule excludes."""
    order = lock(model, pk)
    check_responsible(order, user)
    return order
