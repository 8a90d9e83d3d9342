"""Benchmark: a 10,000-line BOM import (validate + commit, history written) and export.

    .venv/bin/python bench/bom_import.py                  # 10,000 lines, SQLite in var/bench-bom-import
    .venv/bin/python bench/bom_import.py --lines 2000     # smaller
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bombench .venv/bin/python bench/bom_import.py

Steps, each in a forked child process so its peak memory (``ru_maxrss``) is its own:

- one assembly's BOM of ``--lines`` lines (one row per line, every tenth with a substitute),
  all new: validate, then commit (through ``builds.services.bom_import``: locked / recursion
  checks once per assembly and chunk, history rows with user and reason);
- the same file with every quantity changed (all rows updates; lines un-validated);
- the same file again (all unchanged: no writes, no history);
- a designator file (one row per designator, as EDA tools export it: ``--lines`` rows,
  five designators per component) grouped into lines on a second assembly;
- export of the BOM lines to CSV and XLSX;
- the floor: a raw ``bulk_create`` of the same lines (no validation, no history), rolled back.

Nothing here is asserted by tests; figures go to docs/performance.md ("Import and export").
The database is rebuilt on every run.
"""

import argparse
import os
import platform
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# keep bench/ off the path so "import_export" (bench/import_export.py) never shadows the library
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))
parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--lines", type=int, default=10_000)
ARGS = parser.parse_args()

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("STOCKROOM_VAR_DIR", str(ROOT / "var" / "bench-bom-import"))
VAR = Path(os.environ["STOCKROOM_VAR_DIR"])
if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
    (VAR / "stockroom.sqlite3").unlink(missing_ok=True)
    for suffix in ("-wal", "-shm"):
        (VAR / f"stockroom.sqlite3{suffix}").unlink(missing_ok=True)
VAR.mkdir(parents=True, exist_ok=True)

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from admin_customisations.importing import engine  # noqa: E402
from admin_customisations.importing.resource import resource_for  # noqa: E402
from admin_customisations.models import ImportRun  # noqa: E402
from bench._import_support import in_child, make_run, write_csv  # noqa: E402
from builds.models import BomItem  # noqa: E402
from inventory.models import Part  # noqa: E402

settings.IMPORT_MAX_FILE_MB = 200
settings.MEDIA_ROOT = VAR / "media"

LINE_HEADERS = ["Assembly IPN", "Sub-part IPN", "Quantity", "References", "Note", "Substitutes"]
DESIGNATOR_HEADERS = ["Assembly IPN", "Designator", "Sub-part IPN", "Value", "Footprint", "DNP"]
PER_COMPONENT = 5  # designators per component in the designator file


def setup(n):
    if connection.vendor == "postgresql":
        call_command("flush", interactive=False, verbosity=0)
    call_command("migrate", verbosity=0)
    user = get_user_model().objects.create_superuser("bench", "bench@example.com", "pw-bench-1")
    Part.objects.bulk_create(
        [
            Part(ipn="ASM-LINES", name="Bench assembly (lines)", assembly=True),
            Part(ipn="ASM-DESIGNATORS", name="Bench assembly (designators)", assembly=True),
        ]
    )
    for start in range(0, n, 5000):
        Part.objects.bulk_create(
            Part(ipn=f"BC-{i:06d}", name=f"Bench component {i}")
            for i in range(start, min(n, start + 5000))
        )
    return user


def line_rows(n, version=1):
    for i in range(n):
        yield [
            "ASM-LINES",
            f"BC-{i:06d}",
            str(version + i % 4),
            f"R{i + 1}",
            f"Line {i}",
            f"BC-{(i + 1) % n:06d}" if i % 10 == 0 else "",
        ]


def designator_rows(n):
    for i in range(n):
        component = i // PER_COMPONENT
        yield [
            "ASM-DESIGNATORS",
            f"R{i + 1}",
            f"BC-{component:06d}",
            "10k",
            "0603",
            "DNP" if component % 50 == 49 else "",
        ]


def import_step(user, path, step, options=None):
    def run_it():
        run = ImportRun.objects.filter(original_name=path.name).order_by("-pk").first()
        if step == "validate":
            summary = engine.validate(make_run(user, "bom_lines", path, options))
        else:
            summary = engine.commit(run)
        return (
            f"{summary['status']}: {summary['new']} new, {summary['updated']} updated, "
            f"{summary['unchanged']} unchanged, {summary['errors']} errors"
            + (f" ({summary['message'][:120]})" if summary["errors"] else "")
        )

    return run_it


def both(user, label, path, rows, options=None):
    total = in_child(f"{label}: validate", import_step(user, path, "validate", options), rows)
    total += in_child(f"{label}: commit", import_step(user, path, "commit", options), rows)
    print(f"{label + ': validate + commit':<38} {total:8.2f} s {rows / total:9,.0f} rows/s")


def floor(n):
    def run_it():
        assembly = Part.objects.get(ipn="ASM-LINES")
        components = list(Part.objects.filter(ipn__startswith="BC-").order_by("pk")[:n])
        with transaction.atomic():
            BomItem.objects.bulk_create(
                (
                    BomItem(part=assembly, sub_part=c, quantity=1, reference=f"R{i}")
                    for i, c in enumerate(components)
                ),
                batch_size=2000,
            )
            transaction.set_rollback(True)
        return "raw bulk_create, rolled back"

    return run_it


def export_step(fmt, n):
    def run_it():
        from admin_customisations.importing.writers import write_csv as wcsv
        from admin_customisations.importing.writers import write_xlsx

        res = resource_for("bom_lines")
        path = VAR / f"bom-export.{fmt}"
        with open(path, "wb") as handle:
            writer = wcsv if fmt == "csv" else write_xlsx
            count = writer(res.headers(), res.export_rows(res.queryset()), handle)
        return f"{count} rows, {path.stat().st_size / 1e6:.1f} MB"

    return run_it


def main():
    n = ARGS.lines
    print(
        f"BOM import benchmark: {n:,} lines, {connection.vendor}, "
        f"{platform.python_version()}, {os.cpu_count()} CPUs, chunk {engine.chunk_rows()} rows",
        flush=True,
    )
    user = setup(n)
    new_csv = write_csv(VAR / "bom-new.csv", LINE_HEADERS, line_rows(n))
    upd_csv = write_csv(VAR / "bom-update.csv", LINE_HEADERS, line_rows(n, version=2))
    again = VAR / "bom-again.csv"
    again.write_bytes(upd_csv.read_bytes())
    designators = write_csv(VAR / "bom-designators.csv", DESIGNATOR_HEADERS, designator_rows(n))
    in_child("floor: BOM lines bulk_create", floor(n), n)
    both(user, "BOM lines new", new_csv, n)
    both(user, "BOM lines updates", upd_csv, n)
    both(user, "BOM lines unchanged", again, n)
    both(user, "designator rows (grouped)", designators, n, options={"dnp": "optional"})
    lines = BomItem.objects.count()
    in_child("export BOM lines: CSV", export_step("csv", lines), lines)
    in_child("export BOM lines: XLSX", export_step("xlsx", lines), lines)


if __name__ == "__main__":
    main()
