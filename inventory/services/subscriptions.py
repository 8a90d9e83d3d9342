"""Subscribing users to parts and categories (who hears about low stock and expiry).

A subscription is the user's own setting, not a change to the part: it writes no history
of the part. Subscribing twice, or unsubscribing from something one never subscribed to,
changes nothing (the functions return how many subscriptions they created or removed).
Each takes a queryset of parts or categories (an admin selection).
"""

from django.core.exceptions import ValidationError
from django.db import transaction

from inventory.models import PartSubscription
from inventory.services.actors import is_system_user

# One click may subscribe to at most this many objects (subscribe to a category instead).
MAX_PER_SUBSCRIBE = 1000


def _check_user(user) -> None:
    if not getattr(user, "pk", None) or is_system_user(user) or not user.is_active:
        raise ValidationError("Only an active user account can subscribe.")


def _ids(queryset) -> list[int]:
    ids = list(queryset.order_by("pk").values_list("pk", flat=True)[: MAX_PER_SUBSCRIBE + 1])
    if len(ids) > MAX_PER_SUBSCRIBE:
        raise ValidationError(
            f"Subscribe to at most {MAX_PER_SUBSCRIBE:,} "
            f"{queryset.model._meta.verbose_name_plural} at once (a category subscription "
            "covers every part below it)."
        )
    return ids


def _subscribe(user, queryset, field: str) -> int:
    _check_user(user)
    ids = _ids(queryset)
    existing = set(
        PartSubscription.objects.filter(user=user, **{f"{field}_id__in": ids}).values_list(
            f"{field}_id", flat=True
        )
    )
    new = [PartSubscription(user=user, **{f"{field}_id": pk}) for pk in ids if pk not in existing]
    PartSubscription.objects.bulk_create(new, ignore_conflicts=True)
    return len(new)


@transaction.atomic
def part_subscribe(*, user, parts) -> int:
    """Subscribe ``user`` to ``parts``; returns how many subscriptions are new."""
    return _subscribe(user, parts, "part")


@transaction.atomic
def category_subscribe(*, user, categories) -> int:
    """Subscribe ``user`` to ``categories`` and so to every part in and below them."""
    return _subscribe(user, categories, "category")


@transaction.atomic
def part_unsubscribe(*, user, parts) -> int:
    """Remove ``user``'s subscriptions to ``parts``; returns how many were removed.

    A subscription to a category above a part still covers it (unsubscribe there)."""
    removed, _ = PartSubscription.objects.filter(user=user, part__in=parts.values("pk")).delete()
    return removed


@transaction.atomic
def category_unsubscribe(*, user, categories) -> int:
    """Remove ``user``'s subscriptions to ``categories`` (not those to sub-categories)."""
    removed, _ = PartSubscription.objects.filter(
        user=user, category__in=categories.values("pk")
    ).delete()
    return removed
