"""Data and helpers for the bulk-job tests."""

import pytest
from django.contrib.auth.models import Group, User

from admin_customisations.roles import set_group_roles
from inventory.choices import StockStatus
from inventory.models import StockItem
from tests import factories


@pytest.fixture
def clerk(db):
    """A stock clerk: may change stock items and locations, view the rest."""
    group = Group.objects.create(name="stock clerks")
    set_group_roles(
        group,
        {
            "stock": ("view", "add", "change", "delete"),
            "stock_location": ("view", "change"),
            "part": ("view",),
            "admin": ("view",),
        },
    )
    user = User.objects.create_user("clerk", password="pw-clerk-123", is_staff=True)
    user.groups.add(group)
    return user


@pytest.fixture
def make_items(db):
    """``make_items(n, status=…, location=…)``: n stock items of one part (bulk-created)."""

    def make(n, *, status=StockStatus.OK, location=None, part=None):
        part = part or factories.PartFactory()
        location = location or factories.StockLocationFactory()
        StockItem.objects.bulk_create(
            StockItem(part=part, location=location, quantity=5, status=status) for _ in range(n)
        )
        return StockItem.objects.filter(part=part, location=location).order_by("pk")

    return make
