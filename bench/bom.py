"""Benchmark: BOM explosion and can-build on a 5-level BOM of more than 1,000 lines.

    .venv/bin/python bench/bom.py

Builds a throwaway SQLite database in a temporary directory (nothing else is touched),
creates the BOM with stock, substitutes, variants and build allocations, then prints
the median time of a few runs and the number of queries of each read. Figures go to
docs/performance.md; timings are never asserted in tests (the query counts are).
"""

import os
import shutil
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# bench/import_export.py would shadow the django-import-export library: keep bench/ off the path
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))
TMP = tempfile.mkdtemp(prefix="stockroom-bench-bom-")
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
os.environ["STOCKROOM_VAR_DIR"] = TMP
os.environ["DATABASE_URL"] = f"sqlite:///{TMP}/bench.sqlite3"

import django  # noqa: E402

django.setup()

from django.core.exceptions import ValidationError  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from builds.choices import BuildStatus  # noqa: E402
from builds.models import BomItem, BomItemSubstitute, BuildItem, BuildLine, BuildOrder  # noqa: E402
from builds.selectors import (  # noqa: E402
    bom_checksum,
    can_build,
    can_build_many,
    explode_bom,
)
from builds.services.bom import bom_item_create  # noqa: E402
from inventory.models import Part, StockItem, StockLocation  # noqa: E402

LEVELS = 5  # levels of BOM lines below the top assembly
SUB_ASSEMBLIES = 3  # per assembly above the bottom level
COMPONENTS = 5  # per assembly above the bottom level
BOTTOM_COMPONENTS = 10  # per bottom-level assembly
COMPONENT_POOL = 300  # distinct components (shared between assemblies)
TEMPLATES = 20  # of the components are templates with 3 variants each
RUNS = 5


def build_bom():
    """The top assembly, all assemblies, and counts; written in bulk in one transaction."""
    with transaction.atomic():
        location = StockLocation.objects.create(name="Bench store")
        components = Part.objects.bulk_create(
            Part(name=f"Component {i:03d}", ipn=f"C-{i:03d}", is_template=i < TEMPLATES)
            for i in range(COMPONENT_POOL)
        )
        variants = Part.objects.bulk_create(
            Part(name=f"Component {t:03d}-v{v}", ipn=f"C-{t:03d}-V{v}", variant_of=components[t])
            for t in range(TEMPLATES)
            for v in range(3)
        )
        stocked = components + variants
        StockItem.objects.bulk_create(
            StockItem(part=part, quantity=Decimal(5000 + 37 * i), location=location)
            for i, part in enumerate(stocked)
        )
        top = Part.objects.create(name="Bench product", ipn="TOP", assembly=True)
        tiers, lines, n = [[top]], [], 0
        for level in range(1, LEVELS):
            children = Part.objects.bulk_create(
                Part(name=f"Assembly L{level}-{(n := n + 1)}", ipn=f"A-{n}", assembly=True)
                for _ in range(len(tiers[-1]) * SUB_ASSEMBLIES)
            )
            for index, parent in enumerate(tiers[-1]):
                for child in children[index * SUB_ASSEMBLIES : (index + 1) * SUB_ASSEMBLIES]:
                    lines.append(BomItem(part=parent, sub_part=child, quantity=2))
            tiers.append(children)
        k = 0
        for tier in tiers:
            bottom = tier is tiers[-1]
            for parent in tier:
                for _ in range(BOTTOM_COMPONENTS if bottom else COMPONENTS):
                    k += 1
                    lines.append(
                        BomItem(
                            part=parent,
                            sub_part=components[(k * 7) % COMPONENT_POOL],
                            quantity=Decimal(1 + k % 4),
                            overage=["", "2%", "1", ""][k % 4],
                            consumable=k % 11 == 0,
                            optional=k % 13 == 0,
                            allow_variants=True,
                            reference=f"X{k}",
                        )
                    )
        lines = BomItem.objects.bulk_create(lines, batch_size=500)
        StockItem.objects.bulk_create(  # some finished sub-assemblies on the shelf
            StockItem(part=part, quantity=Decimal(40 + i), location=location)
            for i, part in enumerate(tiers[1])
        )
        BomItemSubstitute.objects.bulk_create(
            BomItemSubstitute(bom_item=line, part=components[(i * 3 + 1) % COMPONENT_POOL])
            for i, line in enumerate(lines)
            if i % 7 == 0 and line.sub_part_id != components[(i * 3 + 1) % COMPONENT_POOL].pk
        )
        build = BuildOrder.objects.create(
            reference="BO-0001", part=top, quantity=1, status=BuildStatus.PRODUCTION
        )
        first_stock = {s.part_id: s for s in StockItem.objects.order_by("pk")}
        build_lines = BuildLine.objects.bulk_create(
            BuildLine(build=build, bom_item=line, quantity=line.quantity)
            for line in lines
            if line.part_id == top.pk
        )
        BuildItem.objects.bulk_create(
            BuildItem(
                build_line=bl,
                stock_item=first_stock[bl.bom_item.sub_part_id],
                quantity=Decimal(10),
            )
            for bl in build_lines
            if bl.bom_item.sub_part_id in first_stock
        )
    assemblies = [p for tier in tiers for p in tier]
    return top, assemblies, len(lines), len(stocked)


def measure(label, call):
    """Median wall time of RUNS calls (after one warm-up) and the queries of one call."""
    call()
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - start)
    with CaptureQueriesContext(connection) as queries:
        call()
    print(f"  {label:<58} {statistics.median(times) * 1000:9.1f} ms {len(queries):6d} queries")
    return result


def refused_recursion(top, bottom):
    try:
        with transaction.atomic():
            bom_item_create(part=bottom, sub_part=top, quantity=1, user=None)
    except ValidationError:
        return True
    raise AssertionError("the recursion check let a loop through")


def accepted_line(part, sub_part):
    with transaction.atomic():
        bom_item_create(part=part, sub_part=sub_part, quantity=1, user=None)
        transaction.set_rollback(True)


def main():
    try:
        call_command("migrate", verbosity=0)
        started = time.perf_counter()
        top, assemblies, line_count, stocked = build_bom()
        print(
            f"BOM: {LEVELS} levels, {line_count:,} lines, {len(assemblies)} assemblies, "
            f"{COMPONENT_POOL} components + {TEMPLATES * 3} variants with stock "
            f"(built in {time.perf_counter() - started:.1f} s; SQLite, {connection.vendor})"
        )
        print(f"  {'operation':<58} {'median':>12} {'queries':>14}")
        explosion = measure(
            "explode_bom(top, 10): every row of the 5-level tree",
            lambda: explode_bom(top, 10),
        )
        figure = measure("can_build(top)", lambda: can_build(top))
        many = measure(
            f"can_build_many(all {len(assemblies)} assemblies)",
            lambda: can_build_many(assemblies),
        )
        measure("bom_checksum(top)", lambda: bom_checksum(top))
        bottom = assemblies[-1]
        measure(
            "recursion check: add top under a bottom assembly (refused)",
            lambda: refused_recursion(top, bottom),
        )
        spare = Part.objects.get(ipn="C-299")
        measure(
            "bom_item_create: add a component to the top (accepted)",
            lambda: accepted_line(top, spare),
        )
        print(
            f"  explosion: {len(explosion.rows):,} rows, depth {explosion.depth}, "
            f"{len(explosion.leaves)} leaf totals; can_build(top) = {figure}; "
            f"assemblies that can be built: {sum(1 for v in many.values() if v)}"
        )
    finally:
        connection.close()
        shutil.rmtree(TMP, ignore_errors=True)


if __name__ == "__main__":
    main()
