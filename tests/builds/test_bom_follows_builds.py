"""R20: editing a BOM updates the lines of open build orders of that assembly."""

from decimal import Decimal

import pytest

from builds.choices import BuildStatus
from builds.services.bom import bom_item_create, bom_item_update
from builds.services.build import build_order_create
from tests import factories

pytestmark = pytest.mark.django_db


def test_open_builds_follow_bom_edits_closed_ones_do_not(superuser):
    assembly = factories.PartFactory(assembly=True)
    screw = factories.PartFactory()
    line = bom_item_create(part=assembly, sub_part=screw, quantity=2, user=superuser)
    open_build = build_order_create(part=assembly, quantity=5, user=superuser)
    done = build_order_create(part=assembly, quantity=5, user=superuser)
    done.status = BuildStatus.COMPLETE
    done.save()
    bom_item_update(bom_item=line, quantity=3, user=superuser)
    assert open_build.lines.get(bom_item=line).quantity == Decimal(15)
    assert done.lines.get(bom_item=line).quantity == Decimal(10)
    washer = factories.PartFactory()
    new_line = bom_item_create(part=assembly, sub_part=washer, quantity=1, user=superuser)
    assert open_build.lines.get(bom_item=new_line).quantity == Decimal(5)
    assert not done.lines.filter(bom_item=new_line).exists()
