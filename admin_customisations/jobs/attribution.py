"""History written while a job runs says which job wrote it: "<reason> (job #N)".

A context variable holds the running job; a simple-history signal appends it to
every historical record's change reason, whatever service wrote the record.
"""

import contextvars
from contextlib import contextmanager

_current_job = contextvars.ContextVar("stockroom_current_job", default=None)


@contextmanager
def running_job(job_id: int, action_label: str):
    token = _current_job.set((job_id, action_label))
    try:
        yield
    finally:
        _current_job.reset(token)


def current_job():
    """``(job id, action label)`` of the job running in this context, or None."""
    return _current_job.get()


def label_history_with_job(sender, history_instance, **kwargs):
    job = _current_job.get()
    if job is None:
        return
    job_id, action_label = job
    reason = history_instance.history_change_reason or action_label
    suffix = f" (job #{job_id})"
    if not reason.endswith(suffix):
        history_instance.history_change_reason = f"{reason}{suffix}"[:100]


def connect() -> None:
    from simple_history.signals import pre_create_historical_record

    pre_create_historical_record.connect(
        label_history_with_job, dispatch_uid="stockroom_job_history_reason"
    )
