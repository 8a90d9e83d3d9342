"""Every sortable column of the part list is served by one index read in either direction:
the clicked column and a primary-key tie-breaker only (not followed by the default
``name, revision, pk``, which made the database sort every part sharing a revision), in
the direction its ``(column, id)`` / ``(column, -id)`` index is stored (Part.Meta.indexes,
inventory/admin/parts.py ``PartChangeList``). Timings at scale: docs/performance.md."""

import re

import pytest
from django.contrib import admin
from django.db import connection

from inventory.models import Part
from tests.factories import PartFactory
from tests.inventory.plans import page_queries, plan

pytestmark = pytest.mark.django_db

PART = "inventory_part"


def page_query(client, url):
    """(sql, params) of the list's page: the SELECT of parts with an ORDER BY and LIMIT."""
    pages = [
        (sql, params)
        for sql, params in page_queries(client, url)
        if re.match(rf'\s*SELECT "{PART}"\."id"', sql) and "ORDER BY" in sql and "LIMIT" in sql
    ]
    assert len(pages) == 1, url
    return pages[0]


def order_by(sql) -> str:
    return sql.split("ORDER BY", 1)[1].split("LIMIT", 1)[0].strip()


def sorts(lines) -> list[str]:
    if connection.vendor == "sqlite":
        return [line for line in lines if "TEMP B-TREE" in line]
    # a full Sort node or a table scan; an Incremental Sort reads the index in order and sorts
    # only rows sharing the column's value (ipn, indexed alone), which LIMIT ends
    return [line for line in lines if re.match(r"\s*(->\s*)?Sort\s+\(", line) or "Seq Scan" in line]


@pytest.fixture
def parts(monkeypatch):
    # more rows than a page, so the list is paginated (LIMIT) as it is at scale
    monkeypatch.setattr(admin.site._registry[Part], "list_per_page", 2)
    for n in range(5):
        PartFactory(name=f"Part {n % 2}", ipn=f"P-{n}", revision="A" if n % 3 else "")


# o=<column index in list_display>: ipn 1, name 2, revision 3, stock 6, active 8
ORDERS = {
    "1": '"inventory_part"."ipn" ASC, "inventory_part"."id" ASC',
    "-1": '"inventory_part"."ipn" DESC, "inventory_part"."id" DESC',
    "2": '"inventory_part"."name" ASC, "inventory_part"."revision" ASC, "inventory_part"."id" ASC',
    "-2": (
        '"inventory_part"."name" DESC, "inventory_part"."revision" DESC, "inventory_part"."id" DESC'
    ),
    "3": '"inventory_part"."revision" ASC, "inventory_part"."id" DESC',
    "-3": '"inventory_part"."revision" DESC, "inventory_part"."id" ASC',
    "6": '"inventory_part"."in_stock_total" ASC, "inventory_part"."id" DESC',
    "-6": '"inventory_part"."in_stock_total" DESC, "inventory_part"."id" ASC',
    "8": '"inventory_part"."active" ASC, "inventory_part"."id" DESC',
    "-8": '"inventory_part"."active" DESC, "inventory_part"."id" ASC',
}


@pytest.mark.parametrize("column", ORDERS)
def test_each_sort_is_one_index_read(admin_client, parts, column):
    sql, params = page_query(admin_client, f"/admin/inventory/part/?o={column}")
    assert order_by(sql) == ORDERS[column]
    assert not sorts(plan(sql, params, forbid_sort=True)), plan(sql, params, forbid_sort=True)


def test_default_order_is_the_list_index(admin_client, parts):
    sql, params = page_query(admin_client, "/admin/inventory/part/")
    assert not sorts(plan(sql, params, forbid_sort=True)), plan(sql, params, forbid_sort=True)
    names = [
        (p.name, p.revision, p.pk) for p in Part.objects.order_by("name", "revision", "pk")[:2]
    ]
    response = admin_client.get("/admin/inventory/part/")
    shown = [p.pk for p in response.context["cl"].result_list]
    assert shown == [pk for _, _, pk in names]


def test_a_sorted_list_pages_without_repeating_or_losing_rows(admin_client, parts):
    seen = []
    for page in (1, 2, 3):
        response = admin_client.get(f"/admin/inventory/part/?o=3&p={page}")
        seen += [p.pk for p in response.context["cl"].result_list]
    assert sorted(seen) == sorted(Part.objects.values_list("pk", flat=True))
