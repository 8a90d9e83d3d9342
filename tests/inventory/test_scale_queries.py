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


@pytest.mark.django_db
def test_page_beyond_the_capped_count_is_a_full_page(admin_client, monkeypatch):
    """LargeTablePaginator counts at most ``cap + 1`` rows; a page after the cap still shows a
    whole page (and says there is more), the last page shows its rows and the exact total."""
    from django.contrib import admin

    from admin_customisations.paginator import CappedCount, LargeTablePaginator
    from inventory.models import StockItem

    monkeypatch.setattr(LargeTablePaginator, "cap", 4)
    monkeypatch.setattr(admin.site._registry[StockItem], "list_per_page", 2)
    site = StockLocationFactory(name="Site")
    add_stock(9, site)  # 5 pages of 2 (the last has 1)

    response = admin_client.get("/admin/inventory/stockitem/?p=4")  # items 7-8, cap is 4
    assert response.status_code == 200
    cl = response.context["cl"]
    assert len(cl.result_list) == 2
    # a lower bound that offers the next page: "9+" (rows 1-6, this page and one more)
    assert isinstance(cl.paginator.count, CappedCount) and cl.paginator.count == 9
    assert cl.paginator.num_pages == 5

    response = admin_client.get("/admin/inventory/stockitem/?p=5")
    assert response.status_code == 200
    cl = response.context["cl"]
    assert len(cl.result_list) == 1
    assert cl.paginator.count == 9 and not isinstance(cl.paginator.count, CappedCount)

    # past the end: the admin's usual redirect for an invalid page, no error
    assert admin_client.get("/admin/inventory/stockitem/?p=6").status_code == 302


@pytest.mark.parametrize("pk", [12, '<a"'])
def test_row_checkbox_is_unfolds(pk):
    """The stock list's row checkbox (rendered once, filled per row) is unfold's HTML."""
    from django.contrib.admin import helpers
    from unfold.admin import checkbox

    from admin_customisations.paginator import action_checkbox_html

    assert action_checkbox_html(pk) == checkbox.render(helpers.ACTION_CHECKBOX_NAME, str(pk))


@pytest.mark.django_db
def test_rows_keep_checkbox_labels_and_badge(admin_client):
    """With the headers computed once per page every row still gets its cells' labels."""
    site = StockLocationFactory(name="Site")
    add_stock(3, site)
    html = admin_client.get("/admin/inventory/stockitem/").content.decode()
    assert html.count('name="_selected_action"') == 3
    assert html.count('data-label="status"') == 3
    assert html.count(">OK<") + html.count("OK\n") >= 3
