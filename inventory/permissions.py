"""Stock ownership: who may change a location, its sub-locations and the stock in them.

With ``STOCK_OWNERSHIP_CONTROL`` on, a location may have owners: users or
groups holding guardian's ``change_stocklocation`` permission on it. A
non-superuser may change a location and the stock items inside it only if they
own its nearest owned ancestor (the location itself counts); where no location
up the tree has an owner, everyone with the model permission may. Viewing is
never restricted. This module is the one place that decides; admin pages,
actions, services, imports and tasks call it.
"""

from django.conf import settings
from django.core.exceptions import ValidationError

from inventory.models import (
    StockLocation,
    StockLocationGroupObjectPermission,
    StockLocationUserObjectPermission,
)

OWNER_CODENAME = "change_stocklocation"


def ownership_enabled() -> bool:
    return getattr(settings, "STOCK_OWNERSHIP_CONTROL", False)


def _owned_locations() -> dict[int, str]:
    """{location id: tree_path} of every location that has at least one owner (two queries)."""
    ids = set(
        StockLocationUserObjectPermission.objects.filter(
            permission__codename=OWNER_CODENAME
        ).values_list("content_object_id", flat=True)
    ) | set(
        StockLocationGroupObjectPermission.objects.filter(
            permission__codename=OWNER_CODENAME
        ).values_list("content_object_id", flat=True)
    )
    return dict(StockLocation.objects.filter(pk__in=ids).values_list("pk", "tree_path"))


def _owned_by(user) -> set[int]:
    """Ids of locations ``user`` owns directly or through a group."""
    direct = StockLocationUserObjectPermission.objects.filter(
        user=user, permission__codename=OWNER_CODENAME
    )
    through_groups = StockLocationGroupObjectPermission.objects.filter(
        group__in=user.groups.all(), permission__codename=OWNER_CODENAME
    )
    return set(direct.values_list("content_object_id", flat=True)) | set(
        through_groups.values_list("content_object_id", flat=True)
    )


class OwnershipRules:
    """The ownership decision for one user, computed once (a few queries) and reused for many objects."""

    def __init__(self, user):
        self.unrestricted = (
            not ownership_enabled() or user is None or getattr(user, "is_superuser", False)
        )
        if self.unrestricted:
            return
        self.owned = _owned_locations()
        mine = _owned_by(user)
        # Deepest first, so the nearest owned ancestor is found first.
        self.by_depth = sorted(self.owned.items(), key=lambda kv: -len(kv[1]))
        self.allowed_owned = {pk for pk in self.owned if pk in mine}

    def may_change_path(self, tree_path: str | None) -> bool:
        if self.unrestricted or not tree_path:
            return True
        for pk, path in self.by_depth:
            if tree_path.startswith(path):
                return pk in self.allowed_owned
        return True

    def blocked_location_ids(self) -> set[int]:
        """Ids of every location this user may not change (one query over all locations)."""
        if self.unrestricted or not self.owned:
            return set()
        return {
            pk
            for pk, path in StockLocation.objects.values_list("pk", "tree_path")
            if not self.may_change_path(path)
        }


def may_change_location(user, location) -> bool:
    return OwnershipRules(user).may_change_path(location.tree_path if location else None)


def may_change_stock_item(user, item) -> bool:
    return may_change_location(user, item.location if item.location_id else None)


def check_stock_ownership(user, *locations, rules=None) -> None:
    """Refuse (ValidationError with a readable message) a change touching a location the user
    does not own. Pass ``rules`` (an ``OwnershipRules``) to decide many items with one set of
    queries."""
    if not ownership_enabled():
        return
    rules = rules or OwnershipRules(user)
    for location in locations:
        if location is not None and not rules.may_change_path(location.tree_path):
            raise ValidationError(
                f"You do not own '{location.pathstring}' (or the owned location above it), "
                "so you cannot change it or the stock in it."
            )


def changeable_locations(user, queryset=None):
    queryset = StockLocation.objects.all() if queryset is None else queryset
    blocked = OwnershipRules(user).blocked_location_ids()
    return queryset.exclude(pk__in=blocked) if blocked else queryset


def changeable_stock_items(user, queryset):
    blocked = OwnershipRules(user).blocked_location_ids()
    return queryset.exclude(location_id__in=blocked) if blocked else queryset
