"""Benchmark: stock as of a date (inventory.selectors_as_of) at scale.

    .venv/bin/python bench/stock_as_of.py                # on the admin_pages dataset (1M items)
    .venv/bin/python bench/stock_as_of.py --quick        # 1/20 scale (var/bench-quick)
    STOCKROOM_VAR_DIR=/tmp/var .venv/bin/python bench/stock_as_of.py --repeat 10

Uses the dataset of bench/admin_pages.py (``migrate; load_demo; generate_data --parts 100000
--stock-items 1000000 --orders 1000 --bom-depth 4 --seed 1``, built if missing) and adds, once,
a part with 10,000 tracking entries written by the real services: 100 items received, 50 bulk
moves of all of them between two bins (``stock_items_move``: INSERT … SELECT history), then
4,900 single-item adds and removes.

Prints median and p95 ms of: the selector for that part (per part, per location), the page
for it through the full middleware stack (as ``allaccess``), the selector for the whole
generated category tree (1,000,000 items), the capped count the page uses to decide between
answering and a background job, and the latest-row query written as a window function and
as a correlated subquery. Figures go to docs/performance.md; nothing here is asserted.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# bench/import_export.py would shadow the django-import-export library: keep bench/ off the path
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

PART_NAME = "Bench as-of part"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1/20 scale dataset")
    parser.add_argument("--repeat", type=int, default=20, help="timed runs per figure (20)")
    parser.add_argument(
        "--category-repeat", type=int, default=3, help="timed runs for the whole category (3)"
    )
    return parser.parse_args(argv)


ARGS = parse_args()
from bench._dataset import ensure_dataset, setup_django  # noqa: E402

setup_django(quick=ARGS.quick)

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from inventory import selectors_as_of  # noqa: E402
from inventory.admin.stock_as_of import history_rows_in_scope, job_rows  # noqa: E402
from inventory.models import (  # noqa: E402
    Part,
    PartCategory,
    StockItem,
    StockItemTracking,
    StockLocation,
)
from inventory.selectors_as_of import stock_as_of  # noqa: E402
from inventory.services.stock import (  # noqa: E402
    stock_item_add,
    stock_item_create,
    stock_item_remove,
)
from inventory.services.stock_bulk import stock_items_move  # noqa: E402


def ensure_busy_part(user):
    """The part with 10,000 tracking entries; returns (part, the moment half-way through)."""
    part = Part.objects.filter(name=PART_NAME).first()
    if part is not None:
        entries = StockItemTracking.objects.filter(item__part=part).order_by("date")
        return part, entries.values_list("date", flat=True)[entries.count() // 2]
    print("writing a part with 10,000 tracking entries ...", flush=True)
    started = time.perf_counter()
    category, _ = PartCategory.objects.get_or_create(name="Bench as-of", parent=None)
    part = Part.objects.create(name=PART_NAME, ipn="BENCH-ASOF", category=category)
    bins = []
    for name in ("As-of bin A", "As-of bin B"):
        bins.append(StockLocation.objects.get_or_create(name=name, parent=None)[0])
    with transaction.atomic():
        items = [
            stock_item_create(part=part, quantity=100, location=bins[0], user=user)[0]
            for _ in range(100)
        ]
    for round_ in range(50):
        with transaction.atomic():
            stock_items_move(items=items, location=bins[(round_ + 1) % 2], user=user)
    for n in range(4900):
        item = items[n % 100]
        with transaction.atomic():
            if n % 2:
                stock_item_remove(item=item, quantity=1, user=user)
            else:
                stock_item_add(item=item, quantity=1, user=user)
    count = StockItemTracking.objects.filter(item__part=part).count()
    print(f"  {count} entries in {time.perf_counter() - started:.0f} s", flush=True)
    return ensure_busy_part(user)


def timed(func, repeat, warmup=1):
    for _ in range(warmup):
        func()
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        func()
        runs.append((time.perf_counter() - started) * 1000)
    runs.sort()
    p95 = runs[min(len(runs) - 1, int(round(0.95 * (len(runs) - 1))))]
    return statistics.median(runs), p95


def report(label, figures, extra=""):
    median, p95 = figures
    print(f"{label:<58} {median:>9.1f} {p95:>9.1f}  {extra}", flush=True)


def _scope(when, parts):
    model = selectors_as_of.history_model()
    where, params = ["h.history_date <= %s"], [when]
    if parts is not None:
        part_sql, part_params = parts.query.sql_with_params()
        where.append(f"h.part_id IN ({part_sql})")
        params.extend(part_params)
    return connection.ops.quote_name(model._meta.db_table), " AND ".join(where), params


def window_latest_sql(*, when, parts=None, locations=None):
    """Alternative measured: ROW_NUMBER() OVER (PARTITION BY id ORDER BY date, history id)."""
    table, where, params = _scope(when, parts)
    sql = (
        "SELECT history_id FROM (SELECT h.history_id, ROW_NUMBER() OVER (PARTITION BY h.id "
        f"ORDER BY h.history_date DESC, h.history_id DESC) AS rn FROM {table} h WHERE {where}) "
        "latest WHERE rn = 1"
    )
    return sql, params


def correlated_latest_sql(*, when, parts=None, locations=None):
    """Alternative measured: a correlated subquery per history row."""
    table, where, params = _scope(when, parts)
    sql = (
        f"SELECT h.history_id FROM {table} h WHERE {where} AND h.history_id = ("
        f"SELECT MAX(h2.history_id) FROM {table} h2 WHERE h2.id = h.id "
        "AND h2.history_date <= %s)"
    )
    return sql, [*params, when]


def distinct_on_latest_sql(*, when, parts=None, locations=None):
    """Alternative measured on PostgreSQL: DISTINCT ON (id) … ORDER BY id, history id DESC."""
    table, where, params = _scope(when, parts)
    sql = (
        f"SELECT DISTINCT ON (h.id) h.history_id FROM {table} h WHERE {where} "
        "ORDER BY h.id, h.history_id DESC"
    )
    return sql, params


ALTERNATIVES = {"window function": window_latest_sql, "correlated subquery": correlated_latest_sql}
if connection.vendor == "postgresql":
    ALTERNATIVES["DISTINCT ON"] = distinct_on_latest_sql


def with_latest_sql(function, call):
    original = selectors_as_of.latest_history_ids_sql
    selectors_as_of.latest_history_ids_sql = function
    try:
        return call()
    finally:
        selectors_as_of.latest_history_ids_sql = original


def main():
    root = ensure_dataset(quick=ARGS.quick)
    user = get_user_model().objects.filter(username="allaccess").first()
    part, middle = ensure_busy_part(user)
    history = selectors_as_of.history_model()
    print(
        f"{connection.vendor}; stock items {StockItem.objects.count():,}, history rows "
        f"{history.objects.count():,}; part {part.ipn}: "
        f"{StockItemTracking.objects.filter(item__part=part).count():,} tracking entries, "
        f"{history.objects.filter(part_id=part.pk).count():,} history rows",
        flush=True,
    )
    print(f"{'figure':<58} {'median ms':>9} {'p95 ms':>9}")
    repeat = ARGS.repeat
    report(
        "one part, per part (10,000 entries)",
        timed(lambda: stock_as_of(when=middle, part=part), repeat),
    )
    report(
        "one part, per location",
        timed(lambda: stock_as_of(when=middle, part=part, per_location=True), repeat),
    )
    if "testserver" not in settings.ALLOWED_HOSTS:
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    # no collectstatic needed: pages only name static files (as in the test suite)
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    client = Client()
    client.force_login(user)
    url = "/admin/inventory/stockitem/as-of/"
    when = timezone.localtime(middle).strftime("%Y-%m-%dT%H:%M:%S")

    def page():
        response = client.get(url, {"when": when, "part": part.ipn, "per_location": "on"})
        assert response.status_code == 200, response.status_code

    report("one part, the page (per location, full middleware)", timed(page, repeat))
    for name, function in ALTERNATIVES.items():
        figures = with_latest_sql(
            function, lambda: timed(lambda: stock_as_of(when=middle, part=part), repeat)
        )
        report(f"one part, per part, {name} instead", figures)

    limit = job_rows()
    report(
        f"capped count deciding page or job (limit {limit:,}), whole tree",
        timed(lambda: history_rows_in_scope(category=root, limit=limit), repeat),
    )
    now = timezone.now()
    runs = ARGS.category_repeat
    rows = []

    def whole(category, **kwargs):
        return lambda: rows.append(len(stock_as_of(when=now, category=category, **kwargs)))

    child = PartCategory.objects.filter(parent=root).order_by("pk").first()
    scope = history_rows_in_scope(category=child, limit=10**9)
    label = f"sub-category '{child.name}' ({scope:,} history rows)"
    report(f"{label}, per part", timed(whole(child), runs, 0), f"{rows[-1]:,} rows")
    report(f"{label}, per location", timed(whole(child, per_location=True), runs, 0))
    for name, function in ALTERNATIVES.items():
        figures = with_latest_sql(function, lambda: timed(whole(child), runs, 0))
        report(f"{label}, per part, {name} instead", figures)
    report(f"whole tree '{root.name}', per part", timed(whole(root), runs, 0), f"{rows[-1]:,} rows")
    report(
        f"whole tree '{root.name}', per location", timed(whole(root, per_location=True), runs, 0)
    )
    scope = history_rows_in_scope(category=root, limit=10**9)
    print(f"history rows in the whole tree: {scope:,}")


if __name__ == "__main__":
    main()
