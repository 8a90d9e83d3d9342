"""A build order can be made for a sales order (link kept on create and update, shown in the admin)."""

import pytest

from builds.services.build import build_order_create, build_order_update
from tests import factories

pytestmark = pytest.mark.django_db


def test_build_links_to_its_sales_order(admin_client_root, superuser):
    assembly = factories.PartFactory(assembly=True)
    order = factories.SalesOrderFactory()
    build = build_order_create(part=assembly, quantity=2, user=superuser, sales_order=order)
    assert build.sales_order == order and list(order.builds.all()) == [build]
    other = factories.SalesOrderFactory()
    build_order_update(build=build, user=superuser, sales_order=other)
    build.refresh_from_db()
    assert build.sales_order == other
    content = admin_client_root.get(f"/admin/builds/buildorder/{build.pk}/change/").content.decode()
    assert other.reference in content
