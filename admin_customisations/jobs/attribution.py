"""History written while a job runs says which job wrote it: "<reason> (job #N)".

The running job sets the history reason suffix of ``inventory.services.common`` (the one
place services take their history attribution from); a simple-history signal appends it to
every historical record saved one by one, and bulk services append it themselves
(``with_reason_suffix``).
"""

from contextlib import contextmanager

from inventory.services.common import history_reason_suffix, with_reason_suffix


@contextmanager
def running_job(job_id: int):
    with history_reason_suffix(f" (job #{job_id})"):
        yield


def label_history_with_job(sender, history_instance, **kwargs):
    reason = history_instance.history_change_reason or ""
    if not reason.strip():  # no reason of its own: the job's (actors.acting_as) fills it
        return
    labelled = with_reason_suffix(reason)
    if labelled != reason:
        history_instance.history_change_reason = labelled


def connect() -> None:
    from simple_history.signals import pre_create_historical_record

    pre_create_historical_record.connect(
        label_history_with_job, dispatch_uid="stockroom_job_history_reason"
    )
