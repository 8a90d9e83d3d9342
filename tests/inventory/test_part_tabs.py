"""The part page's lazy tabs (admin_customisations/tabs.py, inventory/admin/part_tabs.py):
what each shows, its pages, and who sees which tab and which links."""

import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, User
from django.urls import reverse

from admin_customisations.roles import set_group_roles
from builds.models import BuildItem, BuildLine
from fixtures.accounts import ensure_demo_accounts
from inventory.choices import StockStatus
from orders.models import SalesOrderAllocation
from tests import factories

pytestmark = pytest.mark.django_db

ALL_TABS = [
    "stock",
    "allocations",
    "builds",
    "purchase-orders",
    "sales-orders",
    "used-in",
    "history",
]


def tab_url(part, slug, **params):
    url = reverse("admin:inventory_part_tab", args=[part.pk, slug])
    query = "&".join(f"{key}={value}" for key, value in params.items())
    return f"{url}?{query}" if query else url


def change_url(obj):
    opts = obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])


def rows(content) -> int:
    return len(re.findall(r'<tr class="border-b border-base-100', content))


@pytest.fixture
def part():
    """An assembly that is also a purchaseable, salable component: every tab applies."""
    return factories.PartFactory(
        name="Widget", assembly=True, component=True, purchaseable=True, salable=True
    )


def login(client, username):
    ensure_demo_accounts()
    client.force_login(User.objects.get(username=username))
    return client


def test_change_page_offers_the_tabs_and_loads_none_of_them(admin_client_root, part):
    factories.StockItemFactory(part=part, batch="SECRET-BATCH")
    content = admin_client_root.get(change_url(part)).content.decode()
    for slug in ALL_TABS:
        assert f'hx-get="{tab_url(part, slug)}"' in content
        assert f"activeTab = 'dataset-tab-{slug}'" in content
    assert "SECRET-BATCH" not in content  # the stock table comes with its tab
    assert "{#" not in content and "lazy tab" not in content  # template comments stay out
    assert 'id="dataset-tab-stock-group"' in content  # unfold opens #dataset-tab-stock
    # the header keeps the object's name (admin_customisations/static/.../object_pages.css)
    assert "admin_customisations/object_pages.css" in content


def test_tabs_that_do_not_apply_to_the_part_are_left_out(admin_client_root):
    plain = factories.PartFactory(assembly=False, component=False, salable=False)
    plain.purchaseable = False
    plain.save()
    content = admin_client_root.get(change_url(plain)).content.decode()
    for slug in ("builds", "purchase-orders", "sales-orders", "used-in"):
        assert tab_url(plain, slug) not in content
        assert admin_client_root.get(tab_url(plain, slug)).status_code == 404
    for slug in ("stock", "allocations", "history"):
        assert tab_url(plain, slug) in content


def test_stock_tab_lists_in_stock_items_newest_first_with_links(admin_client_root, part):
    location = factories.StockLocationFactory(name="Shelf A")
    old = factories.StockItemFactory(part=part, location=location, batch="B-OLD", quantity=3)
    new = factories.StockItemFactory(part=part, location=location, serial="", batch="B-NEW")
    factories.StockItemFactory(part=part, batch="B-GONE", status=StockStatus.DESTROYED)
    response = admin_client_root.get(tab_url(part, "stock"))
    assert response.status_code == 200
    content = response.content.decode()
    assert content.index("B-NEW") < content.index("B-OLD")
    assert "B-GONE" not in content  # not in stock
    assert f'href="{change_url(old)}"' in content and f'href="{change_url(new)}"' in content
    assert f'href="{change_url(location)}"' in content
    assert f"?part__id__exact={part.pk}" in content  # the full list, with history


def test_stock_tab_pages_on(admin_client_root, part):
    items = [factories.StockItemFactory(part=part, batch=f"B{i:02d}") for i in range(30)]
    first = admin_client_root.get(tab_url(part, "stock")).content.decode()
    assert rows(first) == 25
    assert 'rel="next"' in first and 'rel="prev"' not in first
    assert "stock-page=2" in first
    second = admin_client_root.get(tab_url(part, "stock", **{"stock-page": 2})).content.decode()
    assert rows(second) == 5
    assert items[0].batch in second and items[29].batch not in second
    assert 'rel="prev"' in second and 'rel="next"' not in second
    # a bad page number is page 1, a page past the end is empty, neither is an error
    assert (
        rows(admin_client_root.get(tab_url(part, "stock", **{"stock-page": "x"})).content.decode())
        == 25
    )
    far = admin_client_root.get(tab_url(part, "stock", **{"stock-page": 99}))
    assert far.status_code == 200 and rows(far.content.decode()) == 0


def test_allocations_tab_shows_builds_and_sales_orders_holding_stock(admin_client_root, part):
    item = factories.StockItemFactory(part=part, quantity=10)
    line = factories.SalesOrderLineFactory(part=part)
    SalesOrderAllocation.objects.create(line=line, item=item, quantity=Decimal(2))
    build = factories.BuildOrderFactory()
    bom_item = factories.BomItemFactory(part=build.part, sub_part=part)
    build_line = BuildLine.objects.create(build=build, bom_item=bom_item, quantity=3)
    BuildItem.objects.create(build_line=build_line, stock_item=item, quantity=Decimal(3))
    content = admin_client_root.get(tab_url(part, "allocations")).content.decode()
    assert (
        f'href="{change_url(line.order)}" class="text-primary-600">{line.order.reference}</a>'
        in content
    )
    assert f'href="{change_url(build)}" class="text-primary-600">{build.reference}</a>' in content
    assert "Held by builds" in content and "Held by sales orders" in content


def test_order_build_used_in_and_history_tabs(admin_client_root, part):
    po_line = factories.PurchaseOrderLineFactory(supplier_part__part=part)
    so_line = factories.SalesOrderLineFactory(part=part)
    factories.BuildOrderFactory(part=part, title="First batch")
    used = factories.BomItemFactory(sub_part=part, quantity=4)

    def tab(slug):
        return admin_client_root.get(tab_url(part, slug)).content.decode()

    assert (
        f'href="{change_url(po_line.order)}" class="text-primary-600">{po_line.order.reference}</a>'
        in tab("purchase-orders")
    )
    assert (
        f'href="{change_url(so_line.order)}" class="text-primary-600">{so_line.order.reference}</a>'
        in tab("sales-orders")
    )
    assert "First batch" in tab("builds")
    used_in = tab("used-in")
    assert f'href="{change_url(used.part)}"' in used_in and "directly" in used_in
    assert reverse("admin:inventory_part_history", args=[part.pk]) in tab("history")


def test_engineer_sees_no_purchase_or_sales_tabs(client, part):
    login(client, "engineer")
    content = client.get(change_url(part)).content.decode()
    for slug in ("stock", "allocations", "builds", "used-in", "history"):
        assert tab_url(part, slug) in content
    for slug in ("purchase-orders", "sales-orders"):
        assert tab_url(part, slug) not in content
        assert client.get(tab_url(part, slug)).status_code == 403
    # allocations: the builds' table only
    allocations = client.get(tab_url(part, "allocations")).content.decode()
    assert "Held by builds" in allocations and "Held by sales orders" not in allocations


def test_rows_link_only_to_what_the_user_may_view(client, part):
    group = Group.objects.create(name="parts and stock only")
    set_group_roles(group, {"part": ("view",), "stock": ("view",)})
    user = factories.UserFactory(username="stockviewer", is_staff=True)
    user.groups.add(group)
    client.force_login(user)
    location = factories.StockLocationFactory(name="Shelf B")
    item = factories.StockItemFactory(part=part, location=location)
    content = client.get(tab_url(part, "stock")).content.decode()
    assert f'href="{change_url(item)}"' in content
    assert "Shelf B" in content and f'href="{change_url(location)}"' not in content


def test_tab_refuses_post_and_unknown_tabs(admin_client_root, part):
    assert admin_client_root.post(tab_url(part, "stock")).status_code == 405
    assert admin_client_root.get(tab_url(part, "nonsense")).status_code == 404
    missing = reverse("admin:inventory_part_tab", args=[999999, "stock"])
    assert admin_client_root.get(missing).status_code == 404
