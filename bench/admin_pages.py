"""Benchmark: admin pages at scale, through the full middleware stack, as ``allaccess``.

    .venv/bin/python bench/admin_pages.py                 # full size (100k parts, 1M stock items)
    .venv/bin/python bench/admin_pages.py --quick         # 1/20 scale (make bench-quick)
    .venv/bin/python bench/admin_pages.py --pages stock --repeat 5
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/stockroom_bench .venv/bin/python bench/admin_pages.py

The dataset is built once and reused: SQLite under ``STOCKROOM_VAR_DIR`` (default
``var/bench`` for the full size, always ``var/bench-quick`` for ``--quick``), or the database
``DATABASE_URL`` names. It is ``migrate``, ``load_demo`` and ``generate_data --parts 100000
--stock-items 1000000 --orders 1000 --bom-depth 4 --seed 1`` (1/20 of the parts, stock and
orders for ``--quick``).

For every page in ``PAGES`` it makes 2 warm-up and ``--repeat`` (default 20) timed requests
with Django's test client and prints: median and p95 ms, queries, the slowest query (re-run
directly, rows fetched, so SQLite's lazy stepping is counted), and the floor: the page's main
query (the first row-fetching query on the page's main table) executed directly, with the
page's ratio to it. A page whose first warm-up takes longer than ``--slow`` seconds gets one
warm-up and 3 timed runs (marked ``*``), so a slow "before" run still ends.

``PAGES`` is data: a page is a name, a URL template filled from ``context()`` (ids of a deep
assembly, a part with many stock items, ...) and the table its main query reads. Add a page
by adding a row. Figures go to docs/performance.md; nothing here is asserted by tests.
"""

import argparse
import json
import os
import platform
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# bench/import_export.py would shadow the django-import-export library: keep bench/ off the path
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="1/20 scale dataset in var/bench-quick"
    )
    parser.add_argument("--pages", default="", help="only pages whose name contains this text")
    parser.add_argument("--repeat", type=int, default=20, help="timed requests per page (20)")
    parser.add_argument("--warmup", type=int, default=2, help="warm-up requests per page (2)")
    parser.add_argument(
        "--slow", type=float, default=5.0, help="seconds: slower pages get 3 timed runs (5)"
    )
    parser.add_argument("--list", action="store_true", help="list the pages and exit")
    return parser.parse_args(argv)


ARGS = parse_args()
from bench._dataset import ensure_dataset, setup_django  # noqa: E402

setup_django(quick=ARGS.quick)

import django  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib import admin  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test import Client  # noqa: E402

from builds.models import BomItem  # noqa: E402
from inventory.admin.part_tabs import part_tabs  # noqa: E402
from inventory.models import Part, StockItem, StockLocation  # noqa: E402

STOCK = "inventory_stockitem"
PART = "inventory_part"
AC = "/admin/autocomplete/?app_label=inventory&model_name=stockitem&field_name="

# name, URL (str.format with context()), main table. "{sorts:<model>}" rows expand to one page
# per sortable column of that admin's list_display.
LOG, LOG_TABLE = (
    "/admin/admin_customisations/changelogentry/",
    "admin_customisations_changelogentry",
)
PAGES = [
    # the home page: the dashboard (admin_customisations/dashboard); its snapshot refresh,
    # the periodic task's work, is timed after the table (measure_dashboard_snapshot)
    ("dashboard (admin index)", "/admin/", None),
    ("stock location changelist", "/admin/inventory/stocklocation/", "inventory_stocklocation"),
    (
        "location change page, many items",
        "/admin/inventory/stocklocation/{busy_location}/change/",
        "inventory_stocklocation",
    ),
    ("part category changelist", "/admin/inventory/partcategory/", "inventory_partcategory"),
    ("part changelist", "/admin/inventory/part/", PART),
    ("part changelist, category filter", "/admin/inventory/part/?category={category}", PART),
    ("part changelist, low stock", "/admin/inventory/part/?low_stock=yes", PART),
    ("part changelist, has stock", "/admin/inventory/part/?has_stock=yes", PART),
    ("part changelist, active", "/admin/inventory/part/?active__exact=1", PART),
    ("part changelist, assembly", "/admin/inventory/part/?assembly__exact=1", PART),
    ("part changelist, trackable", "/admin/inventory/part/?trackable__exact=1", PART),
    ("part changelist, virtual", "/admin/inventory/part/?virtual__exact=1", PART),
    ("part changelist, template", "/admin/inventory/part/?is_template__exact=1", PART),
    ("part changelist, locked", "/admin/inventory/part/?locked__exact=1", PART),
    ("part changelist, search IPN", "/admin/inventory/part/?q={ipn}", PART),
    ("part changelist, search name", "/admin/inventory/part/?q={name_word}", PART),
    ("part changelist, page 500", "/admin/inventory/part/?p={page}", PART),
    ("{sorts:part}", "/admin/inventory/part/", PART),
    ("part change page, deep BOM assembly", "/admin/inventory/part/{assembly}/change/", PART),
    ("part BOM page, deep", "/admin/inventory/part/{assembly}/bom/", "builds_bomitem"),
    ("part change page, many stock items", "/admin/inventory/part/{busy_part}/change/", PART),
    ("part history page", "/admin/inventory/part/{busy_part}/history/", "inventory_historicalpart"),
    # the part page's lazy tabs (inventory/admin/part_tabs.py), first page of each
    *(
        (
            f"part tab {slug}, many stock items",
            f"/admin/inventory/part/{{busy_part}}/tab/{slug}/",
            PART,
        )
        for slug in (tab.slug for tab in part_tabs())
    ),
    ("stock item changelist", "/admin/inventory/stockitem/", STOCK),
    ("stock item changelist, page 500", "/admin/inventory/stockitem/?p={page}", STOCK),
    ("{sorts:stockitem}", "/admin/inventory/stockitem/", STOCK),
    ("stock item changelist, search serial", "/admin/inventory/stockitem/?q={serial}", STOCK),
    ("stock item changelist, search batch", "/admin/inventory/stockitem/?q={batch}", STOCK),
    (
        "stock item changelist, location subtree",
        "/admin/inventory/stockitem/?location={site}",
        STOCK,
    ),
    (
        "stock item changelist, category subtree",
        "/admin/inventory/stockitem/?category={category}",
        STOCK,
    ),
    (
        "stock item changelist, status damaged",
        "/admin/inventory/stockitem/?status__exact=55",
        STOCK,
    ),
    ("stock item changelist, in stock", "/admin/inventory/stockitem/?in_stock=yes", STOCK),
    ("stock item changelist, not in stock", "/admin/inventory/stockitem/?in_stock=no", STOCK),
    ("stock item changelist, expired", "/admin/inventory/stockitem/?expired=yes", STOCK),
    ("stock item changelist, serialized", "/admin/inventory/stockitem/?serialized=yes", STOCK),
    ("stock item changelist, state all", "/admin/inventory/stockitem/?state=all", STOCK),
    ("stock item changelist, state shipped", "/admin/inventory/stockitem/?state=shipped", STOCK),
    ("stock item change page", "/admin/inventory/stockitem/{item}/change/", STOCK),
    # an action on the item's own page (admin_customisations.actions.detail_from_form_action)
    ("stock item page action: move", "/admin/inventory/stockitem/{item}/move-stock/", STOCK),
    # what the sales allocation picker offers for an order of the busiest part
    (
        "picker: sales allocation",
        "/admin/inventory/stockitem/picker/?picker=sales_allocation&scope={busy_sales_order}"
        "&app_label=orders&model_name=salesorderallocation&field_name=item&term=",
        STOCK,
    ),
    (
        "stock item history page",
        "/admin/inventory/stockitem/{item}/history/",
        "inventory_historicalstockitem",
    ),
    (
        "location history page",
        "/admin/inventory/stocklocation/{busy_location}/history/",
        "inventory_historicalstocklocation",
    ),
    (
        "part category change page",
        "/admin/inventory/partcategory/{category}/change/",
        "inventory_partcategory",
    ),
    ("autocomplete: stock item part", AC + "part&term=", PART),
    ("autocomplete: stock item part, typed", AC + "part&term={name_word}", PART),
    ("autocomplete: stock item location", AC + "location&term=", "inventory_stocklocation"),
    (
        "autocomplete: stock item location, typed",
        AC + "location&term=shelf",
        "inventory_stocklocation",
    ),
    ("autocomplete: stock item belongs_to", AC + "belongs_to&term=", STOCK),
    ("autocomplete: stock item belongs_to, typed", AC + "belongs_to&term={serial}", STOCK),
    ("purchase order changelist", "/admin/orders/purchaseorder/", "orders_purchaseorder"),
    ("sales order changelist", "/admin/orders/salesorder/", "orders_salesorder"),
    ("build order changelist", "/admin/builds/buildorder/", "builds_buildorder"),
    ("change log", LOG, LOG_TABLE),
    ("change log, page 500", LOG + "?p={page}", LOG_TABLE),
    ("change log, filter user", LOG + "?user__id__exact={log_user}", LOG_TABLE),
    ("change log, filter model", LOG + "?model={log_model}", LOG_TABLE),
    ("change log, filter deleted", LOG + "?history_type__exact=-", LOG_TABLE),
    (
        "change log, filter date range",
        LOG + "?history_date_from_0={log_day}&history_date_from_1=00:00"
        "&history_date_to_0={log_day}&history_date_to_1=23:59",
        LOG_TABLE,
    ),
    ("change log, filter reason", LOG + "?reason__icontains=received", LOG_TABLE),
    ("change log, filter reason, common word", LOG + "?reason__icontains=generated", LOG_TABLE),
    ("change log, search IPN", LOG + "?q={ipn}", LOG_TABLE),
    ("change log, search name", LOG + "?q={name_word}", LOG_TABLE),
    ("change log, search common word", LOG + "?q=generated", LOG_TABLE),
]


def expand_pages():
    pages = []
    for name, url, table in PAGES:
        match = re.fullmatch(r"\{sorts:(\w+)\}", name)
        if not match:
            pages.append((name, url, table))
            continue
        model_admin = next(
            ma for m, ma in admin.site._registry.items() if m._meta.model_name == match[1]
        )
        for index, column in enumerate(model_admin.list_display):
            if sortable(model_admin, column):
                label = f"{model_admin.model._meta.verbose_name} changelist, sorted by {column}"
                pages.append((label, f"{url}?o={index + 1}", table))
    return pages


def sortable(model_admin, column):
    if column == "action_checkbox":
        return False
    attr = getattr(model_admin, column, None)
    if attr is not None:
        return bool(getattr(attr, "admin_order_field", None))
    try:
        model_admin.model._meta.get_field(column)
    except Exception:
        return False
    return True


def context():
    """Ids and search terms the pages use; computed once per database and cached next to it."""
    cache = Path(os.environ["STOCKROOM_VAR_DIR"]) / f"bench-context-{connection.vendor}.json"
    key = f"{settings.DATABASES['default']['NAME']}:{StockItem.objects.order_by('-pk').values_list('pk', flat=True).first()}"
    if cache.exists():
        data = json.loads(cache.read_text())
        # a page added since the file was written may need a value it lacks: compute again
        needed = set(re.findall(r"{(\w+)}", " ".join(url for _, url, _ in PAGES)))
        if data.get("key") == key and needed <= data.keys():
            return data | {"page": 50 if ARGS.quick else 500}
    used_below = BomItem.objects.values("sub_part")
    assembly = (
        BomItem.objects.exclude(part__in=used_below)
        .values("part")
        .annotate(n=Count("pk"))
        .order_by("-n")
        .values_list("part", flat=True)
        .first()
    )
    busy_part = (
        StockItem.objects.order_by()
        .values("part")
        .annotate(n=Count("pk"))
        .order_by("-n")
        .values_list("part", flat=True)
        .first()
    )
    from orders.models import SalesOrderLine

    busy_sales_order = (
        SalesOrderLine.objects.filter(part_id=busy_part).values_list("order", flat=True).first()
        or SalesOrderLine.objects.values_list("order", flat=True).first()
    )
    busy_location = (
        StockItem.objects.order_by()
        .values("location")
        .annotate(n=Count("pk"))
        .order_by("-n")
        .values_list("location", flat=True)
        .first()
    )
    root = StockLocation.objects.filter(name__startswith="Generated", parent=None).first()
    site = StockLocation.objects.filter(parent=root).order_by("pk").first() if root else None
    category = (
        Part.objects.order_by()
        .values("category")
        .annotate(n=Count("pk"))
        .order_by("-n")
        .values_list("category", flat=True)
        .first()
    )
    part = next(iter(Part.objects.exclude(ipn="").order_by("pk")[1000:1001]), None)
    part = part or Part.objects.order_by("pk").first()
    serialized = StockItem.objects.exclude(serial="").order_by("-pk").first()
    batched = StockItem.objects.exclude(batch="").order_by("-pk").first()
    data = {
        "key": key,
        "page": 50 if ARGS.quick else 500,
        "assembly": assembly,
        "busy_part": busy_part,
        "busy_sales_order": busy_sales_order,
        "busy_location": busy_location,
        "site": site.pk if site else busy_location,
        "category": category,
        "ipn": part.ipn,
        "name_word": part.name.split()[0],
        "serial": serialized.serial if serialized else "1",
        "batch": batched.batch if batched else "B",
        "item": serialized.pk
        if serialized
        else StockItem.objects.values_list("pk", flat=True).first(),
    }
    data |= change_log_context()
    cache.write_text(json.dumps(data, indent=1))
    return data


def change_log_context() -> dict:
    """A user with changes, the part model and a day with changes, for the change log pages."""
    from django.contrib.auth.models import User
    from django.contrib.contenttypes.models import ContentType
    from django.utils import timezone

    from admin_customisations.history.models import ChangeLogEntry

    newest = ChangeLogEntry.objects.order_by("-history_date").first()
    engineer = User.objects.filter(username="engineer").first()
    return {
        "log_user": engineer.pk if engineer else 1,
        "log_model": ContentType.objects.get_for_model(Part).pk,
        "log_day": timezone.localtime(newest.history_date).strftime("%Y-%m-%d")
        if newest
        else "2026-01-01",
    }


class Recorder:
    """execute_wrapper: every query's SQL, params and execute() time."""

    def __init__(self):
        self.queries = []

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.queries.append((sql, params, many, time.perf_counter() - started))


def top_level_table(sql):
    """The table after the outermost FROM of a SELECT (None for other statements)."""
    if not sql.lstrip().upper().startswith("SELECT"):
        return None
    depth = 0
    for match in re.finditer(r"\(|\)|\bFROM\s+\"?(\w+)\"?", sql, re.IGNORECASE):
        token = match.group(0)
        if token == "(":
            depth += 1
        elif token == ")":
            depth -= 1
        elif depth == 0:
            return match.group(1)
    return None


def run_direct(sql, params, runs=3):
    """Wall time (s) of executing a query directly and fetching every row; median of ``runs``."""
    times = []
    for _ in range(runs):
        with connection.cursor() as cursor:
            started = time.perf_counter()
            cursor.execute(sql, params)
            cursor.fetchall()
            times.append(time.perf_counter() - started)
        if times[-1] > 2:
            break
    return statistics.median(times)


def main_query(queries, table):
    if table is None:
        return None
    for sql, params, many, _ in queries:
        head = sql.lstrip()[:40].upper()
        if many or head.startswith("SELECT COUNT(") or "SELECT 1 AS" in head:
            continue
        if top_level_table(sql) == table:
            return sql, params
    return None


def measure(client, url, table):
    recorder = Recorder()
    started = time.perf_counter()
    response = client.get(url)
    first = time.perf_counter() - started
    if response.status_code != 200:
        return {"error": f"HTTP {response.status_code}"}
    slow = first > ARGS.slow
    warmups, repeat = (0, 3) if slow else (max(ARGS.warmup - 1, 0), ARGS.repeat)
    for _ in range(warmups):
        client.get(url)
    times, slowest_exec = [], []
    for _ in range(repeat):
        recorder.queries = []
        with connection.execute_wrapper(recorder):
            started = time.perf_counter()
            response = client.get(url)
            times.append(time.perf_counter() - started)
        slowest_exec.append(max((q[3] for q in recorder.queries), default=0))
    queries = recorder.queries
    # slowest query: re-run the five slowest (by execute()) directly with their rows fetched
    selects = [q for q in queries if not q[2] and q[0].lstrip().upper().startswith("SELECT")]
    candidates = sorted(selects, key=lambda q: -q[3])[:5]
    slowest = max((run_direct(q[0], q[1], runs=1) for q in candidates), default=0)
    main = main_query(queries, table)
    floor = run_direct(*main) if main else None
    times.sort()
    median = statistics.median(times)
    return {
        "median": median,
        "p95": times[min(len(times) - 1, max(0, round(0.95 * len(times)) - 1))],
        "queries": len(queries),
        "slowest": max(slowest, statistics.median(slowest_exec)),
        "floor": floor,
        "ratio": median / floor if floor else None,
        "runs": repeat,
        "slow": slow,
    }


def machine():
    vendor = connection.vendor
    if vendor == "sqlite":
        import sqlite3

        version = f"SQLite {sqlite3.sqlite_version}"
    else:
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            version = f"PostgreSQL {cursor.fetchone()[0]}"
    items = StockItem.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    parts = Part.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    return (
        f"{os.cpu_count()} CPUs ({platform.machine()}, {platform.processor() or platform.system()}), "
        f"Python {platform.python_version()}, Django {django.get_version()}, {version}; "
        f"about {parts:,} parts and {items:,} stock items (highest ids)"
    )


def main():
    if "testserver" not in settings.ALLOWED_HOSTS:
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    # no collectstatic needed: pages only name static files (as in the test suite)
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    pages = [p for p in expand_pages() if ARGS.pages.lower() in p[0].lower()]
    if ARGS.list:
        for name, url, _ in pages:
            print(f"{name:<58} {url}")
        return
    total = time.perf_counter()
    ensure_dataset(quick=ARGS.quick)
    ctx = context()
    user = get_user_model().objects.get(username="allaccess")
    client = Client()
    client.force_login(user)
    print(machine())
    print(
        f"{'quick (1/20)' if ARGS.quick else 'full'} dataset; {ARGS.warmup} warm-up + "
        f"{ARGS.repeat} timed requests per page (* = slow page: 1 warm-up + 3 runs)"
    )
    header = f"| {'page':<58} | median ms | p95 ms | queries | slowest q ms | floor ms | ratio |"
    print(header)
    print("|" + "|".join("-" * (len(c)) for c in header.split("|")[1:-1]) + "|")
    for name, url, table in pages:
        result = measure(client, url.format(**ctx), table)
        if "error" in result:
            print(f"| {name:<58} | {result['error']} |", flush=True)
            continue
        floor = f"{result['floor'] * 1000:8.1f}" if result["floor"] is not None else "       –"
        ratio = f"{result['ratio']:5.1f}" if result["ratio"] is not None else "    –"
        mark = "*" if result["slow"] else " "
        print(
            f"| {name:<58} | {result['median'] * 1000:8.0f}{mark} | {result['p95'] * 1000:6.0f} "
            f"| {result['queries']:7d} | {result['slowest'] * 1000:12.1f} | {floor} | {ratio} |",
            flush=True,
        )
    if any(name.startswith("dashboard") for name, _, _ in pages):
        measure_dashboard_snapshot()
    print(f"total {time.perf_counter() - total:.0f} s")


def measure_dashboard_snapshot():
    """The periodic task's work (not a page): the sums over all stock, and each query."""
    from admin_customisations.dashboard.snapshot import refresh_snapshot

    recorder = Recorder()
    with connection.execute_wrapper(recorder):
        snapshot = refresh_snapshot()
    slowest = sorted(recorder.queries, key=lambda q: -q[3])[:3]
    print(
        f"dashboard snapshot refresh (stockroom.refresh_dashboard): {snapshot.seconds * 1000:.0f} ms, "
        f"{len(recorder.queries)} queries; slowest: "
        + ", ".join(f"{q[3] * 1000:.0f} ms" for q in slowest)
    )


if __name__ == "__main__":
    main()
