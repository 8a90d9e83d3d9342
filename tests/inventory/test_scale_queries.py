"""Stock pages run the same number of queries with 3 items or 60 (more than a page), so
there is no query per row and no per-row subquery; list pages stay at or under 15."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import PartFactory, StockItemFactory, StockLocationFactory

AC = "/admin/autocomplete/?app_label=inventory&model_name=stockitem&field_name="
PAGES = [
    "/admin/inventory/stockitem/",
    "/admin/inventory/stockitem/?o=2",
    "/admin/inventory/stockitem/?o=-7",
    "/admin/inventory/stockitem/?q=B24",
    "/admin/inventory/stockitem/?location={site}",
    f"{AC}belongs_to&term=",
    f"{AC}belongs_to&term=1",
]


def add_stock(n, site):
    shelves = [StockLocationFactory(parent=site) for _ in range(3)]
    for i in range(n):
        part = PartFactory(trackable=i % 2 == 0)
        StockItemFactory(
            part=part,
            location=shelves[i % 3],
            quantity=1 if part.trackable else 5,
            serial=str(i + 1) if part.trackable else "",
            batch=f"B24{i:02d}",
        )


def counts(client, site):
    client.get("/admin/")  # warm caches (content types, permissions)
    result = {}
    for page in PAGES:
        url = page.format(site=site.pk)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200, url
        result[url] = len(queries)
    return result


@pytest.mark.django_db
def test_stock_page_queries_do_not_grow_with_data(admin_client):
    site = StockLocationFactory(name="Site")
    add_stock(3, site)
    small = counts(admin_client, site)
    add_stock(60, site)
    large = counts(admin_client, site)
    assert large == small
    assert all(n <= 15 for n in large.values()), large


@pytest.mark.django_db
def test_change_page_queries_do_not_grow_with_data(admin_client):
    site = StockLocationFactory(name="Site")
    add_stock(3, site)
    item = StockItemFactory(part=PartFactory(), location=site)
    url = f"/admin/inventory/stockitem/{item.pk}/change/"
    admin_client.get(url)  # warm caches (content types, permissions)
    with CaptureQueriesContext(connection) as before:
        assert admin_client.get(url).status_code == 200
    add_stock(30, site)
    with CaptureQueriesContext(connection) as after:
        assert admin_client.get(url).status_code == 200
    assert len(after) == len(before)
