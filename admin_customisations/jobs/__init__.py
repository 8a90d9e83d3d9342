"""Bulk jobs: one runner turns any per-object admin action into a Celery job.

- ``bulk.py``: what an action contributes (form, per-object step, permission).
- ``selection.py``: the selection stored as the changelist query, rebuilt in the worker.
- ``runner.py``: start, run in chunks (exactly once per object), cancel, retry, reap.
- ``attribution.py``: history rows written by a job carry "<action> (job #N)".
- ``tasks.py``: the Celery tasks; ``views.py`` + ``admin.py``: the job pages.
"""
