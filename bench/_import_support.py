"""Helpers the import benchmarks share (bench/import_export.py, bench/bom_import.py).

Imported as ``bench._import_support`` after ``django.setup()``: the scripts keep ``bench/``
itself off ``sys.path`` (``bench/import_export.py`` would shadow the library).
"""

import csv
import os
import resource
import time

from django.core.files import File
from django.db import connection

from admin_customisations.models import ImportRun


def write_csv(path, headers, rows):
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(headers)
        writer.writerows(rows)
    return path


def make_run(user, resource_name, path, options=None) -> ImportRun:
    """An uploaded run of ``path`` for ``resource_name``, as the upload page creates it."""
    run = ImportRun(
        resource=resource_name, original_name=path.name, user=user, options=options or {}
    )
    with open(path, "rb") as handle:
        run.file.save(path.name, File(handle), save=False)
    run.file_size = path.stat().st_size
    run.save()
    return run


def in_child(label, func, rows, *, profile_to=None) -> float:
    """Run ``func`` in a forked child; print seconds, rows/s, CPU and the child's peak RSS.
    With ``profile_to`` (a path), the step is profiled with cProfile into that file."""
    connection.close()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(read)
        try:
            profiler = None
            if profile_to is not None:
                import cProfile

                profiler = cProfile.Profile()
                profiler.enable()
            start, cpu = time.perf_counter(), time.process_time()
            info = func() or ""
            seconds = time.perf_counter() - start
            cpu = time.process_time() - cpu
            if profiler is not None:
                profiler.disable()
                profiler.dump_stats(str(profile_to))
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            os.write(write, f"{seconds:.3f}|{cpu:.3f}|{peak:.0f}|{info}".encode())
        except BaseException as error:  # noqa: BLE001
            os.write(write, f"-1|0|0|{type(error).__name__}: {error}".encode())
        finally:
            os._exit(0)
    os.close(write)
    data = b""
    while chunk := os.read(read, 65536):
        data += chunk
    os.waitpid(pid, 0)
    seconds, cpu, peak, info = data.decode().split("|", 3)
    seconds, cpu = float(seconds), float(cpu)
    rate = rows / seconds if seconds > 0 else 0
    print(
        f"{label:<38} {seconds:7.2f} s {rate:8,.0f} rows/s  (CPU {cpu:6.2f} s)  "
        f"peak {float(peak):5.0f} MB  {info}",
        flush=True,
    )
    return seconds
