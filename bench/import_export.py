"""Benchmark: spreadsheet import (validate + commit, history written) and export.

    .venv/bin/python bench/import_export.py                 # 100,000 rows, SQLite in var/bench-import
    .venv/bin/python bench/import_export.py --rows 10000    # smaller
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/importbench .venv/bin/python bench/import_export.py

Steps, each in a forked child process so its peak memory (``ru_maxrss``) is its own:

- parts import, all rows new (validate, then commit: full_clean per row, bulk
  uniqueness, history rows with user and reason, created_by);
- the same file again with every description changed (all rows updates);
- the same file a third time (all rows unchanged: no writes, no history);
- stock items import (part IPN, location path, quantity, batch) through
  ``stock_item_create`` (tracking entry + history per item);
- export of all parts to CSV and to XLSX through the resource and IO's writers;
- the floor: a raw ``bulk_create`` of the same part rows and the same stock rows
  (no validation, no history), rolled back.

The database is rebuilt on every run. Nothing here is asserted by tests; figures go to
docs/performance.md ("Import and export").
"""

import argparse
import os
import platform
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# this script's name is the library's: keep bench/ off the path so "import_export" is the library
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))
parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--rows", type=int, default=100_000)
parser.add_argument("--stock-rows", type=int, default=None, help="default: --rows")
parser.add_argument("--skip-stock", action="store_true")
parser.add_argument("--profile", default="", help="cProfile the steps whose label contains this")
ARGS = parser.parse_args()
STOCK_ROWS = ARGS.stock_rows if ARGS.stock_rows is not None else ARGS.rows

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("STOCKROOM_VAR_DIR", str(ROOT / "var" / "bench-import"))
VAR = Path(os.environ["STOCKROOM_VAR_DIR"])
if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
    (VAR / "stockroom.sqlite3").unlink(missing_ok=True)
    for suffix in ("-wal", "-shm"):
        (VAR / f"stockroom.sqlite3{suffix}").unlink(missing_ok=True)
VAR.mkdir(parents=True, exist_ok=True)
os.environ.setdefault("IMPORT_MAX_FILE_MB", "200")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from admin_customisations.importing import engine  # noqa: E402
from admin_customisations.importing.resource import resource_for  # noqa: E402
from admin_customisations.models import ImportRun  # noqa: E402
from bench._import_support import in_child as _in_child  # noqa: E402
from bench._import_support import make_run, write_csv  # noqa: E402
from inventory.models import Part, PartCategory, StockItem, StockLocation  # noqa: E402

settings.IMPORT_MAX_FILE_MB = 200
settings.IMPORT_MAX_ROWS = max(settings.IMPORT_MAX_ROWS, ARGS.rows + 10)
settings.MEDIA_ROOT = VAR / "media"

PART_HEADERS = ["IPN", "Name", "Description", "Category", "Units", "Minimum stock", "Trackable"]
CATEGORIES = [f"Bench/Group {g}/Kind {k}" for g in range(10) for k in range(10)]
LOCATIONS = [f"Store/Aisle {a}/Shelf {s}" for a in range(5) for s in range(10)]


def setup():
    if connection.vendor == "postgresql":
        call_command("flush", interactive=False, verbosity=0)
    call_command("migrate", verbosity=0)
    user = get_user_model().objects.create_superuser("bench", "bench@example.com", "pw-bench-1")
    for model in (PartCategory, StockLocation):
        nodes = {}
        paths = CATEGORIES if model is PartCategory else LOCATIONS
        for path in paths:
            parent = None
            levels = path.split("/")
            for depth in range(1, len(levels) + 1):
                sub = "/".join(levels[:depth])
                if sub not in nodes:
                    nodes[sub] = model.objects.create(name=levels[depth - 1], parent=parent)
                parent = nodes[sub]
    return user


def part_rows(n, version=1):
    for i in range(n):
        yield [
            f"BP-{i:06d}",
            f"Bench part {i}",
            f"Description {i} v{version}",
            CATEGORIES[i % len(CATEGORIES)],
            "pcs",
            str(i % 50),
            "FALSE",
        ]


def in_child(label, func, rows):
    profile = None
    if ARGS.profile and ARGS.profile in label:
        profile = VAR / ("profile-" + "".join(c if c.isalnum() else "-" for c in label) + ".pstats")
    return _in_child(label, func, rows, profile_to=profile)


def import_step(user, name, path, step):
    def run_it():
        run = ImportRun.objects.filter(original_name=path.name).order_by("-pk").first()
        if step == "validate":
            run = make_run(user, name, path)
            summary = engine.validate(run)
        else:
            summary = engine.commit(run)
        return (
            f"{summary['status']}: {summary['new']} new, {summary['updated']} updated, "
            f"{summary['unchanged']} unchanged, {summary['errors']} errors"
            + (f" ({summary['message'][:120]})" if summary["errors"] else "")
        )

    return run_it


def floor_parts(n):
    def run_it():
        categories = {c.pathstring: c for c in PartCategory.objects.all()}
        with transaction.atomic():
            for start in range(0, n, 2000):
                Part.objects.bulk_create(
                    Part(
                        ipn=f"FLOOR-{i:06d}",
                        name=f"Floor part {i}",
                        description=f"Description {i}",
                        category=categories[CATEGORIES[i % len(CATEGORIES)]],
                        units="pcs",
                        minimum_stock=i % 50,
                    )
                    for i in range(start, min(n, start + 2000))
                )
            transaction.set_rollback(True)
        return "raw bulk_create, rolled back"

    return run_it


def floor_stock(n):
    def run_it():
        parts = list(Part.objects.filter(ipn__startswith="BP-").order_by("pk")[:1000])
        locations = list(StockLocation.objects.filter(level=2))
        with transaction.atomic():
            for start in range(0, n, 2000):
                StockItem.objects.bulk_create(
                    StockItem(
                        part=parts[i % len(parts)],
                        location=locations[i % len(locations)],
                        quantity=1 + i % 7,
                        batch=f"B{i % 100}",
                    )
                    for i in range(start, min(n, start + 2000))
                )
            transaction.set_rollback(True)
        return "raw bulk_create, rolled back"

    return run_it


def export_step(fmt, n):
    def run_it():
        from admin_customisations.importing.writers import write_csv as wcsv
        from admin_customisations.importing.writers import write_xlsx

        res = resource_for("parts")
        qs = res.queryset().filter(ipn__startswith="BP-").order_by("pk")
        path = VAR / f"export.{fmt}"
        with open(path, "wb") as handle:
            writer = wcsv if fmt == "csv" else write_xlsx
            count = writer(res.headers(), res.export_rows(qs), handle)
        return f"{count} rows, {path.stat().st_size / 1e6:.1f} MB"

    return run_it


def main():
    print(
        f"Import/export benchmark: {ARGS.rows:,} rows, {connection.vendor}, "
        f"{platform.python_version()}, {os.cpu_count()} CPUs, chunk "
        f"{engine.chunk_rows()} rows",
        flush=True,
    )
    user = setup()
    resource_for("parts")  # load every resource in the parent: the children inherit them
    n = ARGS.rows
    new_csv = write_csv(VAR / "parts-new.csv", PART_HEADERS, part_rows(n))
    upd_csv = write_csv(VAR / "parts-update.csv", PART_HEADERS, part_rows(n, version=2))
    in_child("floor: parts bulk_create", floor_parts(n), n)
    total = 0.0
    total += in_child("parts new: validate", import_step(user, "parts", new_csv, "validate"), n)
    total += in_child("parts new: commit", import_step(user, "parts", new_csv, "commit"), n)
    print(f"{'parts new: validate + commit':<36} {total:8.1f} s {n / total:9,.0f} rows/s")
    total = 0.0
    total += in_child("parts updates: validate", import_step(user, "parts", upd_csv, "validate"), n)
    total += in_child("parts updates: commit", import_step(user, "parts", upd_csv, "commit"), n)
    print(f"{'parts updates: validate + commit':<36} {total:8.1f} s {n / total:9,.0f} rows/s")
    again = VAR / "parts-again.csv"
    again.write_bytes(upd_csv.read_bytes())
    total = 0.0
    total += in_child("parts unchanged: validate", import_step(user, "parts", again, "validate"), n)
    total += in_child("parts unchanged: commit", import_step(user, "parts", again, "commit"), n)
    print(f"{'parts unchanged: validate + commit':<36} {total:8.1f} s {n / total:9,.0f} rows/s")
    in_child("export parts: CSV", export_step("csv", n), n)
    in_child("export parts: XLSX", export_step("xlsx", n), n)
    if not ARGS.skip_stock and STOCK_ROWS:
        s = STOCK_ROWS
        stock_csv = write_csv(
            VAR / "stock.csv",
            ["Part", "Location", "Quantity", "Batch"],
            (
                [f"BP-{i % 1000:06d}", LOCATIONS[i % len(LOCATIONS)], str(1 + i % 7), f"B{i % 100}"]
                for i in range(s)
            ),
        )
        in_child("floor: stock bulk_create", floor_stock(s), s)
        total = 0.0
        total += in_child(
            "stock new: validate", import_step(user, "stock_items", stock_csv, "validate"), s
        )
        total += in_child(
            "stock new: commit", import_step(user, "stock_items", stock_csv, "commit"), s
        )
        print(f"{'stock new: validate + commit':<36} {total:8.1f} s {s / total:9,.0f} rows/s")


if __name__ == "__main__":
    main()
