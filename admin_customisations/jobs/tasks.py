"""Celery tasks of the job runner: interfaces only (ids in, runner does the work)."""

from celery import shared_task

from admin_customisations.jobs import runner
from inventory.services.actors import acting_as


@shared_task(name="stockroom.run_bulk_job", acks_late=True, reject_on_worker_lost=True)
def run_bulk_job(job_id: int) -> None:
    """Run or resume bulk job ``job_id`` (idempotent: a second delivery finds it done)."""
    runner.run_job(job_id)


@shared_task(name="stockroom.reap_jobs")
def reap_jobs() -> dict:
    """Re-enqueue jobs whose worker died, fail hopeless ones, remove expired result files."""
    with acting_as("scheduler", reason="Scheduled task: bulk-job reaper"):
        return runner.reap()
