"""Large imports run as background jobs of the bulk-job runner; small ones inline.

``start_validation(run)`` and ``start_commit(run)`` are what the admin calls: below the
threshold they run the step in the request and return the summary; above it (file over
``IMPORT_JOB_BYTES`` bytes, default 1 MB, or more rows than ``BULK_JOB_THRESHOLD`` × 10,
counted cheaply before validating: a CSV's lines, an XLSX's size) they record a ``BackgroundJob`` (action ``admin_customisations.importrun:__import__``,
params ``{"run": id, "step": "validate"|"commit"}``), link it to the run and enqueue it
after the transaction commits; the import page then shows the job's progress.

The runner calls ``run_import_job(job)`` for such jobs (safe to run twice: a validated
run is validated again, a committed run is left alone). The reaper calls
``remove_abandoned_files()``: uploads of runs that never finished, older than a day.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from admin_customisations.models import BackgroundJob, ImportRun

IMPORT = "__import__"
ACTION = f"admin_customisations.importrun:{IMPORT}"


def job_bytes() -> int:
    return settings.IMPORT_JOB_BYTES


def job_rows() -> int:
    return int(getattr(settings, "BULK_JOB_THRESHOLD", 200)) * 10


# an XLSX file is compressed: a few hundred bytes per zip member plus ~10-20 bytes per
# row, so one over this size may hold more rows than job_rows(); it runs as a job
XLSX_JOB_BYTES = 64 * 1024


def estimated_rows(run) -> int | None:
    """The file's data rows, counted cheaply before validation: the line count of a CSV
    (an upper bound: quoted line breaks count too), read in 1 MB blocks and stopped once
    it is over ``job_rows()``. ``None`` for an XLSX file (a zip: decided by its size)."""
    limit = job_rows()
    lines = 0
    try:
        with run.file.open("rb") as handle:
            if handle.read(2) == b"PK":
                return None
            handle.seek(0)
            for block in iter(lambda: handle.read(1 << 20), b""):
                lines += block.count(b"\n")
                if lines > limit + 1:
                    break
    except (OSError, ValueError):
        return 0
    return max(lines - 1, 0)  # the header row


def runs_as_job(run) -> bool:
    """Validation and commit run as a job for a file over ``IMPORT_JOB_BYTES``, or with more
    rows than ``job_rows()``: the validated count once known, before that the cheap
    estimate (CSV line count; an XLSX file over ``XLSX_JOB_BYTES``)."""
    size = run.file_size or (run.file.size if run.file else 0)
    if size > job_bytes() or (run.total_rows or 0) > job_rows():
        return True
    if run.total_rows or not run.file:
        return False
    rows = estimated_rows(run)
    if rows is None:
        return size > XLSX_JOB_BYTES
    return rows > job_rows()


def _start_job(run, step: str) -> BackgroundJob:
    from admin_customisations.jobs.runner import enqueue
    from inventory.services.common import create_with_history

    verb = "Validate" if step == "validate" else "Import"
    job = create_with_history(
        BackgroundJob,
        user=run.user,
        reason=f"{verb} of {run.original_name} started (import #{run.pk})"[:100],
        name=f"{verb} {run.original_name} (import #{run.pk})"[:200],
        task_name="stockroom.run_bulk_job",
        action=ACTION,
        params={"run": run.pk, "step": step},
        total=run.total_rows or 0,
        created_by=run.user,
    )
    ImportRun.objects.filter(pk=run.pk).update(
        job=job, status=ImportRun.Status.VALIDATING if step == "validate" else run.status
    )
    run.job = job
    enqueue(job)
    return job


def start_validation(run, *, force_job: bool | None = None) -> dict:
    """Validate ``run`` now (small files) or as a job (large ones); returns the summary,
    with ``job`` set to the BackgroundJob when one was started."""
    from admin_customisations.importing import engine

    if force_job if force_job is not None else runs_as_job(run):
        job = _start_job(run, "validate")
        return {**run.summary(), "status": ImportRun.Status.VALIDATING, "job": job}
    return {**engine.validate(run), "job": None}


def start_commit(run, *, force_job: bool | None = None) -> dict:
    """Commit ``run`` now or as a job (as ``start_validation``). A committed run is a no-op."""
    from admin_customisations.importing import engine

    run.refresh_from_db()
    if run.status != ImportRun.Status.VALID:
        return {**engine.commit(run), "job": run.job}
    if force_job if force_job is not None else runs_as_job(run):
        # claim the run now, so a second confirm while the job waits changes nothing
        claimed = ImportRun.objects.filter(pk=run.pk, status=ImportRun.Status.VALID).update(
            status=ImportRun.Status.COMMITTING
        )
        if not claimed:
            run.refresh_from_db()
            return {**run.summary(), "already": True, "job": run.job}
        run.status = ImportRun.Status.COMMITTING
        job = _start_job(run, "commit")
        return {**run.summary(), "job": job}
    return {**engine.commit(run), "job": None}


def _progress(job_id: int):
    def report(done: int) -> None:
        BackgroundJob.objects.filter(pk=job_id).update(done=done, heartbeat_at=timezone.now())

    return report


def run_import_job(job) -> None:
    """The worker's side of an import job (idempotent)."""
    from admin_customisations.importing import engine

    Status = BackgroundJob.Status  # noqa: N806
    run = ImportRun.objects.filter(pk=(job.params or {}).get("run")).first()
    if run is None:
        BackgroundJob.finish(job.pk, Status.FAILED, "The import no longer exists.")
        return
    step = (job.params or {}).get("step")
    if step == "validate":
        summary = engine.validate(run, progress=_progress(job.pk))
    else:
        # progress inside the commit's transaction is not visible to others until it ends
        summary = engine.commit(run, resume=True)
    run.refresh_from_db()
    BackgroundJob.objects.filter(pk=job.pk).update(
        total=run.total_rows,
        done=run.total_rows,
        succeeded=run.new_count + run.updated_count + run.unchanged_count,
        failed=run.error_count,
        result={"run": run.pk, **{k: v for k, v in summary.items() if k != "job"}},
    )
    ok = run.status in (ImportRun.Status.VALID, ImportRun.Status.COMMITTED)
    BackgroundJob.finish(job.pk, Status.SUCCEEDED if ok else Status.FAILED, run.message[:2000])


def remove_abandoned_files(*, older_than: timedelta | None = None) -> int:
    """Delete the uploads of runs that never finished (validated but never confirmed,
    or stuck) and are older than a day; the runs keep their summaries."""
    cutoff = timezone.now() - (older_than or timedelta(days=1))
    removed = 0
    stale = ImportRun.objects.filter(created_at__lt=cutoff).exclude(file="")
    for run in stale:
        if run.status == ImportRun.Status.COMMITTING and run.job_id:
            job = run.job
            if job is not None and not job.is_finished:
                continue  # a job still works on it
        run.delete_file()
        if not run.is_finished:
            ImportRun.objects.filter(pk=run.pk).update(
                status=ImportRun.Status.FAILED,
                message="Abandoned: the file was removed after a day without being imported.",
                finished_at=timezone.now(),
            )
        removed += 1
    return removed
