"""The dashboard's periodic task (scheduled in ``admin_customisations.schedules``)."""

from celery import shared_task


@shared_task(name="stockroom.refresh_dashboard", acks_late=True)
def refresh_dashboard() -> dict:
    """Recompute the dashboard's stock figures (idempotent: the snapshot row is replaced)."""
    from admin_customisations.dashboard.snapshot import refresh_snapshot

    snapshot = refresh_snapshot()
    return {"computed_at": snapshot.computed_at.isoformat(), "seconds": snapshot.seconds}
