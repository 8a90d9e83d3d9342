"""Benchmark: bulk status change and bulk move of N stock items through the job machinery.

    .venv/bin/python bench/bulk.py                      # 100,000 items, SQLite in var/bench-bulk
    .venv/bin/python bench/bulk.py --items 10000        # smaller
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/stockroom_bulk .venv/bin/python bench/bulk.py

Each job is started as the admin action starts it (a BackgroundJob with the changelist
query as its selection) and run by one real ``celery worker --pool=solo`` process on the
configured broker. Printed per job: objects/s, queries per object (counted in-process on a
1,000-object job), the worker's peak memory (VmHWM) — beside the same change done with a bare
``UPDATE`` of the same rows (the floor) — and whether the maintained figures (part in-stock
total, location item count, kept by the jobs as deltas) equal a recompute after each job.
The database is rebuilt on every run. Nothing here is asserted by tests; figures go to
docs/performance.md.
"""

import argparse
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# not bench/ itself: bench/import_export.py would shadow the django-import-export package
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))
parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--items", type=int, default=100_000)
ARGS = parser.parse_args()

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("STOCKROOM_VAR_DIR", str(ROOT / "var" / "bench-bulk"))
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
from django.db import connection  # noqa: E402

from admin_customisations.jobs import runner  # noqa: E402
from admin_customisations.models import BackgroundJob  # noqa: E402
from inventory.choices import StockStatus  # noqa: E402
from inventory.figures import refresh_location_counts, refresh_part_stock  # noqa: E402
from inventory.models import Part, StockItem, StockLocation  # noqa: E402


def setup():
    if connection.vendor == "postgresql":
        call_command("flush", interactive=False, verbosity=0)
    call_command("migrate", verbosity=0)
    user = get_user_model().objects.create_superuser("bench", "bench@example.com", "pw-bench-1")
    part = Part.objects.create(name="Bench part", ipn="BENCH-1")
    here = StockLocation.objects.create(name="Bench here")
    there = StockLocation.objects.create(name="Bench there")
    sample = StockLocation.objects.create(name="Bench sample")
    StockLocation.objects.create(name="Bench sample target")
    batch = 5000
    for start in range(0, ARGS.items, batch):
        StockItem.objects.bulk_create(
            StockItem(part=part, location=here, quantity=1)
            for _ in range(min(batch, ARGS.items - start))
        )
    StockItem.objects.bulk_create(
        StockItem(part=part, location=sample, quantity=1) for _ in range(1000)
    )
    refresh_part_stock()  # bulk_create bypasses the figures; the jobs keep them by deltas
    refresh_location_counts()
    return user, part, here, there, sample


def job(user, action, params, location):
    return BackgroundJob.objects.create(
        name=action,
        task_name="stockroom.run_bulk_job",
        action=f"inventory.stockitem:{action}",
        params=params,
        selection={"query": f"location={location.pk}"},
        created_by=user,
    )


def run_on_worker(job_id):
    """Run the job on a real worker process; returns (seconds, peak RSS in MB)."""
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "-l",
            "WARNING",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=os.environ.copy(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    peak = 0.0
    try:
        runner.enqueue(BackgroundJob.objects.get(pk=job_id))
        started = None
        while True:
            state = BackgroundJob.objects.filter(pk=job_id).values("status", "started_at").get()
            started = started or (state["started_at"] and time.monotonic())
            peak = max(peak, _vm_hwm(worker.pid))
            if state["status"] in BackgroundJob.FINISHED:
                break
            time.sleep(0.25)
        finished = BackgroundJob.objects.get(pk=job_id)
        seconds = (finished.finished_at - finished.started_at).total_seconds()
        return seconds, peak, finished
    finally:
        worker.terminate()
        worker.wait(timeout=60)


def _vm_hwm(pid) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def queries_per_object(user, action, params, location):
    sample = job(user, action, params, location)
    count = {"queries": 0}

    def counter(execute, sql, params, many, context):
        count["queries"] += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(counter):
        runner.run_job(sample.pk)
    return count["queries"] / 1000


def floor(where, **changes):
    started = time.perf_counter()
    StockItem.objects.filter(location=where).update(**changes)
    return time.perf_counter() - started


def figures_right() -> str:
    """Do the maintained figures equal a recompute from scratch (after the jobs)?"""
    kept = {
        "parts": dict(Part.objects.values_list("pk", "in_stock_total")),
        "locations": dict(StockLocation.objects.values_list("pk", "items_stored")),
    }
    refresh_part_stock()
    refresh_location_counts()
    recomputed = {
        "parts": dict(Part.objects.values_list("pk", "in_stock_total")),
        "locations": dict(StockLocation.objects.values_list("pk", "items_stored")),
    }
    return "yes" if kept == recomputed else f"NO: kept {kept}, recomputed {recomputed}"


def main():
    print(
        f"machine: {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{connection.vendor} {connection.Database.sqlite_version if connection.vendor == 'sqlite' else ''}".rstrip()
    )
    started = time.perf_counter()
    user, part, here, there, sample = setup()
    print(f"setup: {ARGS.items:,} items in {time.perf_counter() - started:.1f} s")
    rows = []
    status = {"status": [str(int(StockStatus.ATTENTION))], "notes": ["bench"]}
    move = {"location": [str(there.pk)], "quantity": [""], "notes": ["bench"]}
    qpo_status = queries_per_object(user, "change_status", status, sample)
    seconds, peak, done = run_on_worker(job(user, "change_status", status, here).pk)
    status_figures = figures_right()
    bare = floor(here, status=StockStatus.OK)
    rows.append(("status change", done, seconds, peak, qpo_status, bare))
    sample_target = StockLocation.objects.get(name="Bench sample target")
    qpo_move = queries_per_object(
        user, "move_stock", {**move, "location": [str(sample_target.pk)]}, sample
    )
    seconds, peak, done = run_on_worker(job(user, "move_stock", move, here).pk)
    move_figures = figures_right()
    bare = floor(there, location=here)
    rows.append(("move", done, seconds, peak, qpo_move, bare))
    print(
        "\n| job | objects | changed | seconds | objects/s | queries/object | worker peak MB | bare UPDATE s | ratio |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for name, finished, seconds, peak, qpo, bare in rows:
        rate = finished.total / seconds if seconds else 0
        print(
            f"| {name} | {finished.total:,} | {finished.succeeded:,} | {seconds:.1f} | {rate:,.0f} | "
            f"{qpo:.1f} | {peak:.0f} | {bare:.2f} | {seconds / bare if bare else 0:.0f}x |"
        )
    print(f"\nfigures equal a recompute after the status job: {status_figures}")
    print(f"figures equal a recompute after the move job: {move_figures}")
    print(f"chunk size: {settings.BULK_JOB_CHUNK_SIZE}; load average: {os.getloadavg()}")


if __name__ == "__main__":
    main()
