"""Helpers shared by the order services: references, status transitions, responsibility."""

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured, ValidationError

from inventory.responsibility import check_responsible, may_change_responsible
from inventory.services.common import lock, save_with_history
from inventory.services.references import (
    ReferencePattern,
    parse_pattern,
    save_with_reference,
)

DEFAULT_PATTERNS = {
    "PURCHASE_ORDER_REFERENCE_PATTERN": "PO-{ref:04d}",
    "SALES_ORDER_REFERENCE_PATTERN": "SO-{ref:04d}",
    "RETURN_ORDER_REFERENCE_PATTERN": "RMA-{ref:04d}",
}


def reference_pattern(model) -> ReferencePattern:
    """The configured reference pattern for an order model (settings override the defaults)."""
    name = model.REFERENCE_SETTING
    try:
        return parse_pattern(getattr(settings, name, DEFAULT_PATTERNS[name]))
    except ValueError as error:
        raise ImproperlyConfigured(f"{name}: {error}") from None


@checks.register(checks.Tags.compatibility)
def check_reference_patterns(app_configs=None, **kwargs):
    """``manage.py check`` reports an unusable order reference pattern setting."""
    from orders.models import PurchaseOrder, ReturnOrder, SalesOrder

    errors = []
    for model in (PurchaseOrder, SalesOrder, ReturnOrder):
        try:
            reference_pattern(model)
        except ImproperlyConfigured as error:
            errors.append(checks.Error(str(error), id="orders.E001"))
    return errors


def order_save_new(order, *, user, reference: str | None = None):
    """Validate and insert a new order with the given or the next free reference.

    Call inside the create service's transaction: the reference is allocated under the
    order model's lock (see inventory.services.references), so orders created at the same
    moment get distinct numbers; a typed reference that is taken is a field error.
    """
    model = type(order)
    pattern = reference_pattern(model)
    order.reference = "-"
    order.created_by = user if getattr(user, "pk", None) else None
    order.full_clean(exclude=["reference", "reference_int"])
    return save_with_reference(
        order,
        pattern=pattern,
        reference=reference,
        save=lambda: save_with_history(order, user=user, reason="Created"),
    )


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
