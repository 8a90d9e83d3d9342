"""The stock list, its location-subtree filter and the stock item autocompletes read the
stock table through an index, never a full scan or a sort of every row.

SQLite: ``EXPLAIN QUERY PLAN`` (no statistics, as a fresh database). PostgreSQL: ``EXPLAIN``
with sequential scans disabled, so a plan still showing "Seq Scan on inventory_stockitem"
means no index can serve the query (on a test-sized table the planner would otherwise
prefer a scan anyway). Timings at scale: bench/admin_pages.py, docs/performance.md.
"""

import datetime
import re

import pytest
from django.contrib import admin
from django.db import connection

from admin_customisations.paginator import LargeTablePaginator
from inventory.models import StockItem
from inventory.models.parts import PART_FLAG_FILTERS
from tests.factories import PartFactory, StockItemFactory, StockLocationFactory
from tests.inventory.plans import page_queries, plan

STOCK = "inventory_stockitem"
AC = "/admin/autocomplete/?app_label=inventory&model_name=stockitem&field_name="


def stock_selects(client, url):
    """(sql, params) of every SELECT of the page that reads the stock table."""
    return [
        (sql, params)
        for sql, params in page_queries(client, url)
        if sql.lstrip().upper().startswith("SELECT") and f'"{STOCK}"' in sql
    ]


def full_scans(sql, params) -> list[str]:
    """Plan lines that read the whole stock table (or read it all to sort it)."""
    lines = plan(sql, params)
    if connection.vendor != "sqlite":
        return [line for line in lines if f"Seq Scan on {STOCK}" in line]
    # a rowid-order scan is fine when it is the order and LIMIT ends it, or the capped count's
    bounded = re.search(rf'ORDER BY "{STOCK}"\."id" (ASC|DESC)\s+LIMIT', sql) or (
        f"LIMIT {LargeTablePaginator.cap + 1})" in sql
    )
    scans = [line for line in lines if re.match(rf"SCAN {STOCK}\b", line)]
    bad = [line for line in scans if "USING" not in line and not bounded]
    if scans and any("TEMP B-TREE FOR ORDER BY" in line for line in lines):
        bad += scans  # every row read to be sorted (sorting a SEARCHed subset is fine)
    return bad


def assert_indexed(client, url):
    queries = stock_selects(client, url)
    assert queries, f"{url} did not read the stock table"
    for sql, params in queries:
        assert not full_scans(sql, params), (url, sql, plan(sql, params))


@pytest.fixture
def stock(db, monkeypatch):
    # more rows than a page, so the list is paginated (LIMIT) as it is at scale
    monkeypatch.setattr(admin.site._registry[StockItem], "list_per_page", 2)
    site = StockLocationFactory(name="Site")
    shelf = StockLocationFactory(name="Shelf", parent=site)
    part = PartFactory(name="Widget", ipn="W-1", trackable=True)
    for n in range(5):
        StockItemFactory(part=part, location=shelf, quantity=1, serial=str(n + 1))
    StockItemFactory(part=PartFactory(name="Bolt", ipn="B-1"), location=site, batch="B2400-001")
    # more than a page for the in-stock / expired filters too
    nut = PartFactory(name="Nut", ipn="N-1")
    for _ in range(3):
        StockItemFactory(part=nut, location=site, status=70)  # lost: not in stock
        StockItemFactory(part=nut, location=site, expiry_date=datetime.date(2020, 1, 1))
    return {"site": site, "shelf": shelf, "part": part}


@pytest.mark.django_db
class TestStockListPlans:
    def test_default_list(self, admin_client, stock):
        assert_indexed(admin_client, "/admin/inventory/stockitem/")

    @pytest.mark.parametrize("column", [2, 4, 5, 6, 7])
    def test_each_sortable_column(self, admin_client, stock, column):
        assert_indexed(admin_client, f"/admin/inventory/stockitem/?o={column}")
        assert_indexed(admin_client, f"/admin/inventory/stockitem/?o=-{column}")

    def test_location_subtree_filter(self, admin_client, stock):
        assert_indexed(admin_client, f"/admin/inventory/stockitem/?location={stock['site'].pk}")

    @pytest.mark.parametrize("term", ["3", "B2400", "w-1"])
    def test_search(self, admin_client, stock, term):
        assert_indexed(admin_client, f"/admin/inventory/stockitem/?q={term}")

    @pytest.mark.parametrize(
        "query",
        [
            "in_stock=yes",
            "in_stock=no",
            "expired=yes",
            "expired=no",
            "serialized=yes",
            "status__exact=55",
            "state=all",
            "state=in_stock",
            "state=consumed",
            "state=shipped",
            "state=installed",
            "state=with_customer",
        ],
    )
    def test_each_filter(self, admin_client, stock, query):
        # "pk IN (every in-stock id)" or a walk of an unselective index would be a full scan
        assert_indexed(admin_client, f"/admin/inventory/stockitem/?{query}")


@pytest.mark.django_db
class TestAutocompletePlans:
    """The stock item form's autocompletes: "installed in" searches the stock table; the part
    and location ones must not read it with a full scan (subtree / in-stock figures)."""

    @pytest.mark.parametrize("term", ["", "3"])
    def test_belongs_to(self, admin_client, stock, term):
        assert_indexed(admin_client, f"{AC}belongs_to&term={term}")

    @pytest.mark.parametrize("field", ["part", "location"])
    def test_part_and_location(self, admin_client, stock, field):
        for sql, params in stock_selects(admin_client, f"{AC}{field}&term=w"):
            assert not full_scans(sql, params), (field, sql, plan(sql, params))


PART = "inventory_part"
PART_AC = "/admin/autocomplete/?app_label=inventory&model_name=stockitem&field_name=part&term="


def part_plans(client, url) -> list[list[str]]:
    """Plans of every SELECT of the page that reads the part table."""
    return [
        plan(sql, params)
        for sql, params in page_queries(client, url)
        if sql.lstrip().upper().startswith("SELECT") and f'FROM "{PART}"' in sql
    ]


def part_full_scans(lines) -> list[str]:
    if connection.vendor != "sqlite":
        return [line for line in lines if re.search(rf"Seq Scan on {PART}( |$)", line)]
    return [line for line in lines if re.search(rf"SCAN {PART}( |$)", line)]


@pytest.fixture
def parts(db):
    for n in range(5):
        PartFactory(name=f"Label {n}", ipn=f"L-{n}", description="thermal label roll")
    PartFactory(name="Bolt", ipn="B-1", description="hex bolt")


@pytest.mark.django_db
class TestPartSearchPlans:
    """The part list's search (IPN prefix: lower(ipn) index; words: PostgreSQL's GIN
    to_tsvector index, SQLite's FTS5 table) and the part autocomplete (lower(ipn) and
    lower(name) prefixes; on PostgreSQL their text_pattern_ops indexes) read no part row
    they do not return."""

    @pytest.mark.parametrize("term", ["b-1", "thermal", "therm roll", "Label 3"])
    def test_list_search(self, admin_client, parts, term):
        plans = part_plans(admin_client, f"/admin/inventory/part/?q={term}")
        assert plans
        for lines in plans:
            assert not part_full_scans(lines), (term, lines)
            text_index = "part_text_search_idx" if connection.vendor != "sqlite" else "_fts"
            assert any(text_index in line for line in lines), (term, lines)
            assert any("ipn_lower" in line for line in lines), (term, lines)

    @pytest.mark.parametrize("term", ["lab", "L-", "b"])
    def test_part_autocomplete(self, admin_client, parts, term):
        plans = part_plans(admin_client, PART_AC + term)
        assert plans
        for lines in plans:
            assert not part_full_scans(lines), (term, lines)
            assert any("name_lower" in line for line in lines), (term, lines)


@pytest.mark.django_db
class TestPartFlagFilterPlans:
    """Each yes/no filter of the part list reads its page from the flag's partial index in
    the list's order (a few virtual parts among 100,000 were a walk of every part)."""

    @pytest.mark.parametrize("flag", PART_FLAG_FILTERS)
    def test_page_uses_the_partial_index(self, admin_client, parts, flag):
        page = [
            lines
            for lines in part_plans(admin_client, f"/admin/inventory/part/?{flag}__exact=1")
            if any(PART in line for line in lines)
        ]
        index = f"part_list_{flag.replace('is_', '')}_idx"
        assert any(index in line for lines in page for line in lines), (flag, page)
        for lines in page:  # reading the whole partial index is the point; nothing else
            assert not [line for line in part_full_scans(lines) if index not in line], (flag, lines)
