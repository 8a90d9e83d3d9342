"""Fixtures and helpers shared by the BOM tests.

Test modules import the fixtures they use (``*_fixture``; pytest knows them by their
``name``), so this works without a conftest.py shared with the build-order tests.
"""

from contextlib import contextmanager
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from builds.models import BomItem, BomItemSubstitute
from builds.services.bom import bom_item_create
from inventory.models import Part
from tests.factories import PartFactory, StockItemFactory, UserFactory


def D(value) -> Decimal:  # noqa: N802 - reads like a literal
    return Decimal(str(value))


def assembly(name, **fields) -> Part:
    """An assembly part (also usable as a component, like a sub-assembly)."""
    return PartFactory(name=name, **{"assembly": True, "component": True, **fields})


def component(name, **fields) -> Part:
    return PartFactory(name=name, **{"component": True, **fields})


def stock(part, quantity, **fields):
    return StockItemFactory(part=part, quantity=D(quantity), **fields)


def line(part, sub_part, quantity=1, user=None, **fields) -> BomItem:
    return bom_item_create(part=part, sub_part=sub_part, quantity=quantity, user=user, **fields)


def bom_state() -> dict:
    """Everything a refused BOM operation must leave exactly as it was."""
    return {
        "lines": list(
            BomItem.objects.order_by("pk").values_list(
                "pk",
                "part_id",
                "sub_part_id",
                "quantity",
                "reference",
                "overage",
                "optional",
                "consumable",
                "allow_variants",
                "inherited",
                "note",
                "validated",
            )
        ),
        "line_history": BomItem.history.count(),
        "substitutes": list(
            BomItemSubstitute.objects.order_by("pk").values_list("pk", "bom_item_id", "part_id")
        ),
        "substitute_history": BomItemSubstitute.history.count(),
        "parts": list(
            Part.objects.order_by("pk").values_list(
                "pk", "trackable", "locked", "bom_checksum", "bom_checked_by", "bom_checked_date"
            )
        ),
        "part_history": Part.history.count(),
    }


@pytest.fixture(name="refused")
def refused_fixture():
    """``with refused("message"): service(...)``: raises ValidationError, changes nothing."""

    @contextmanager
    def _refused(match=None):
        before = bom_state()
        with pytest.raises(ValidationError, match=match) as excinfo:
            yield excinfo
        assert bom_state() == before

    return _refused


@pytest.fixture(name="_fast_password_hashing", autouse=True)
def fast_password_hashing_fixture(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(name="user")
def user_fixture(db):
    return UserFactory(username="engineer")


def bulk_tree(levels: int, width: int, leaves: int = 2) -> tuple[Part, list[list[Part]]]:
    """A BOM ``levels`` deep: every assembly has ``width`` sub-assemblies (``leaves``
    components at the bottom). Written with bulk_create: fast, and no services involved.
    Returns the top assembly and the assemblies per level."""
    top = Part.objects.create(name=f"Tree top {Part.objects.count()}", assembly=True)
    tiers, current, n = [[top]], [top], 0
    for level in range(1, levels + 1):
        bottom = level == levels
        count = leaves if bottom else width
        children = Part.objects.bulk_create(
            Part(
                name=f"T{top.pk} L{level}-{(n := n + 1)}",
                ipn=f"T{top.pk}-{level}-{n}",
                assembly=not bottom,
                component=True,
            )
            for _ in range(len(current) * count)
        )
        BomItem.objects.bulk_create(
            BomItem(part=parent, sub_part=child, quantity=2)
            for index, parent in enumerate(current)
            for child in children[index * count : (index + 1) * count]
        )
        if not bottom:
            tiers.append(children)
        current = children
    return top, tiers
