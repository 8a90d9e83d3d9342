"""The bulk-job runner: start a job from an admin action, run it in chunks, cancel, retry, reap.

Exactly once: each chunk is one transaction that changes its objects, records
a ``JobItem`` per object and advances the job's cursor together, under a lock on
the job row. A worker that dies mid-chunk leaves nothing of that chunk behind;
whoever runs the job next (a redelivered message, or the reaper's re-enqueue)
resumes after the cursor and skips objects already recorded.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Max
from django.db.models.functions import Coalesce
from django.utils import timezone

from admin_customisations.jobs.attribution import running_job
from admin_customisations.jobs.bulk import Skip, chunk_size
from admin_customisations.jobs.exports import EXPORT, run_export
from admin_customisations.jobs.selection import (
    describe_selection,
    model_admin_for,
    request_as,
    selected_queryset,
)
from admin_customisations.models import BackgroundJob, JobItem
from inventory.figures import deferred_refresh
from inventory.services.actors import acting_as
from inventory.services.common import create_with_history

log = logging.getLogger(__name__)
Status = BackgroundJob.Status
Outcome = JobItem.Outcome


def start_bulk_job(*, model_admin, request, queryset, spec, form) -> BackgroundJob:
    """Record a job for ``spec`` over the request's selection and enqueue it after commit."""
    selection = describe_selection(request, queryset)
    selection["max_pk"] = queryset.order_by().aggregate(m=Max("pk"))["m"] or 0
    params = {name: form.data.getlist(form.add_prefix(name)) for name in form.fields}
    job = create_with_history(
        BackgroundJob,
        user=request.user,
        reason=f"Started from the {model_admin.model._meta.verbose_name_plural} list",
        name=f"{spec.description}: {model_admin.model._meta.verbose_name_plural}",
        task_name="stockroom.run_bulk_job",
        action=f"{model_admin.model._meta.label_lower}:{spec.name}",
        params=params,
        selection=selection,
        total=len(selection["ids"]) if "ids" in selection else 0,
        created_by=request.user,
    )
    enqueue(job)
    return job


def enqueue(job) -> None:
    from admin_customisations.jobs.tasks import run_bulk_job

    run_bulk_job.delay_on_commit(job.pk)


def retry_failed(job, *, user) -> BackgroundJob:
    """A new job that re-runs only the objects ``job`` failed on."""
    failed = job.items.filter(outcome=Outcome.FAILED).count()
    if not job.is_finished:
        raise ValidationError("Wait until the job has finished before retrying it.")
    if not failed:
        raise ValidationError("This job has no failed objects to retry.")
    retry = create_with_history(
        BackgroundJob,
        user=user,
        reason=f"Retry of the failed objects of job #{job.pk}",
        name=f"Retry of #{job.pk}: {job.name}"[:200],
        task_name=job.task_name,
        action=job.action,
        params=job.params,
        selection={"max_pk": job.selection.get("max_pk", 0)},
        retry_of=job,
        total=failed,
        created_by=user,
    )
    enqueue(retry)
    return retry


def request_cancel(job) -> None:
    """Ask the job to stop between chunks (what is done stays done)."""
    if job.is_finished:
        raise ValidationError("This job has already finished.")
    BackgroundJob.objects.filter(pk=job.pk).update(cancel_requested=True)
    if job.status == Status.QUEUED and not job.started_at:
        BackgroundJob.finish(job.pk, Status.CANCELLED, "Cancelled before it started.")


def _spec_for(job):
    label, name = job.action.split(":", 1)
    model_admin = model_admin_for(label)
    actions = [a for a in model_admin.actions or () if getattr(a, "__name__", a) == name]
    spec = getattr(actions[0], "bulk", None) if actions else None
    if spec is None:
        raise LookupError(f"{job.action} is not a bulk action")
    return model_admin, spec


def _bound_form(spec, params, queryset):
    from django.http import QueryDict

    data = QueryDict(mutable=True)
    for name, values in params.items():
        data.setlist(name, values)
    data["apply"] = "1"
    return spec.form_class(data, queryset=queryset)


def _final_status(job) -> str:
    if job.failed and not (job.succeeded or job.skipped):
        return Status.FAILED
    return Status.PARTIAL if job.failed else Status.SUCCEEDED


def run_job(job_id: int) -> None:
    """Run (or resume) a bulk job until it is done or cancelled. Safe to call twice.

    Whatever the job writes is attributed to the person who started it (the services get
    that user; anything saved without one falls back to them, see actors.acting_as)."""
    job = BackgroundJob.objects.filter(pk=job_id).first()
    if job is None or job.is_finished:
        return
    with acting_as(job.created_by or "system", reason=f"{job.name} (job #{job.pk})"[:100]):
        _run_job(job_id, job)


def _run_job(job_id: int, job) -> None:
    now = timezone.now()
    BackgroundJob.objects.filter(pk=job_id).update(
        status=Status.RUNNING,
        started_at=Coalesce(F("started_at"), now),
        attempts=F("attempts") + 1,
        heartbeat_at=now,
    )
    if job.action.endswith(":__import__"):  # spreadsheet imports (importing/jobs.py)
        from admin_customisations.importing.jobs import run_import_job

        run_import_job(BackgroundJob.objects.get(pk=job_id))
        return
    if job.action == "inventory.stockitem:__stock_as_of__":  # inventory/admin/stock_as_of.py
        from inventory.admin.stock_as_of import run_job as run_stock_as_of

        run_stock_as_of(BackgroundJob.objects.get(pk=job_id))
        return
    if job.action.endswith(f":{EXPORT}"):
        label = job.action.split(":", 1)[0]
        run_export(BackgroundJob.objects.get(pk=job_id), model_admin_for(label))
        return
    try:
        model_admin, spec = _spec_for(job)
    except LookupError as error:
        BackgroundJob.finish(job_id, Status.FAILED, str(error))
        return
    user = job.created_by
    if user is None or not user.is_active:
        BackgroundJob.finish(
            job_id, Status.FAILED, "The user who started this job no longer exists."
        )
        return
    request = request_as(user)
    queryset = selected_queryset(job, model_admin, user)
    request._job_selection = queryset
    form = _bound_form(spec, job.params, queryset)
    if not form.is_valid():
        errors = "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items())
        BackgroundJob.finish(
            job_id, Status.FAILED, f"The action's form is no longer valid ({errors})."
        )
        return
    if not job.total:
        BackgroundJob.objects.filter(pk=job_id).update(total=queryset.count())
    with running_job(job_id):
        while _run_chunk(job_id, model_admin, spec, request, queryset, form.cleaned_data):
            pass


def _run_chunk(job_id, model_admin, spec, request, queryset, data) -> bool:
    """Process the next chunk in one transaction; False when the job has nothing left."""
    with transaction.atomic():
        job = BackgroundJob.objects.select_for_update().get(pk=job_id)
        if job.is_finished:
            return False
        if job.cancel_requested:
            done = job.succeeded + job.skipped + job.failed
            BackgroundJob.finish(
                job_id, Status.CANCELLED, f"Cancelled after {done} of {job.total} objects."
            )
            return False
        ids = list(
            queryset.filter(pk__gt=job.cursor)
            .order_by("pk")
            .values_list("pk", flat=True)[: chunk_size()]
        )
        if not ids:
            BackgroundJob.finish(job_id, _final_status(job), "")
            return False
        recorded = set(
            JobItem.objects.filter(job_id=job_id, object_id__in=ids).values_list(
                "object_id", flat=True
            )
        )
        # Locked here, for the services (and each_batch) to use as read: see BulkSpec. Only
        # the model's own rows: PostgreSQL refuses to lock a manager's outer joins.
        objects = model_admin.model._default_manager.filter(pk__in=ids).order_by("pk")
        objects = objects.select_for_update(of=("self",))
        if spec.select_related:  # prefetched: a chunk's objects share their related rows
            objects = objects.prefetch_related(*spec.select_related)
        pending = [obj for obj in objects if obj.pk not in recorded]
        with deferred_refresh():  # part figures once per chunk, not once per object
            items = _process_batch(job_id, pending, model_admin, spec, request, data)
            if items is None:
                items = [_process(job_id, obj, model_admin, spec, request, data) for obj in pending]
        JobItem.objects.bulk_create(items)
        counts = {o: sum(1 for i in items if i.outcome == o) for o in Outcome.values}
        BackgroundJob.objects.filter(pk=job_id).update(
            cursor=ids[-1],
            done=F("done") + len(items),
            succeeded=F("succeeded") + counts[Outcome.SUCCEEDED],
            skipped=F("skipped") + counts[Outcome.SKIPPED],
            failed=F("failed") + counts[Outcome.FAILED],
            heartbeat_at=timezone.now(),
        )
    return True


def _process_batch(job_id, objects, model_admin, spec, request, data):
    """The fast path: permitted objects go to the spec's bulk service in one call.

    Returns the JobItems, or None when the action has no bulk path for this input."""
    if spec.each_batch is None or not objects:
        return None
    check = getattr(model_admin, f"has_{spec.permission}_permission")
    permitted = [obj for obj in objects if check(request, obj)]
    try:
        with transaction.atomic():
            outcomes = spec.each_batch(permitted, user=request.user, data=data)
    except ValidationError as error:  # the input itself is refused (e.g. a structural location)
        message = " ".join(error.messages)
        outcomes = {obj.pk: (Outcome.FAILED, message) for obj in permitted}
    if outcomes is None:
        return None
    items = []
    for obj in objects:
        outcome, message = outcomes.get(obj.pk) or (
            Outcome.FAILED,
            "Not permitted: you may not change this object.",
        )
        items.append(
            JobItem(
                job_id=job_id,
                object_id=obj.pk,
                object_repr=str(obj)[:200],
                outcome=outcome,
                message=message,
            )
        )
    return items


def _process(job_id, obj, model_admin, spec, request, data) -> JobItem:
    """Change one object in its own savepoint; its outcome as an unsaved JobItem."""
    item = JobItem(job_id=job_id, object_id=obj.pk, object_repr=str(obj)[:200])
    try:
        if not getattr(model_admin, f"has_{spec.permission}_permission")(request, obj):
            raise PermissionDenied
        with transaction.atomic():
            extra = {"selection": request._job_selection} if spec.pass_selection else {}
            spec.each(obj, user=request.user, data=data, **extra)
        item.outcome = Outcome.SUCCEEDED
    except Skip as skip:
        item.outcome, item.message = Outcome.SKIPPED, str(skip)
    except PermissionDenied:
        item.outcome, item.message = (
            Outcome.FAILED,
            "Not permitted: you may not change this object.",
        )
    except ValidationError as error:
        item.outcome, item.message = Outcome.FAILED, " ".join(error.messages)
    except Exception:  # a bug must not stop the job or show raw exception text to users
        log.exception("Bulk job %s failed on %s #%s", job_id, obj._meta.label, obj.pk)
        item.outcome, item.message = Outcome.FAILED, "Unexpected error (details in the server log)."
    return item


def reap() -> dict:
    """Re-enqueue jobs whose worker stopped heartbeating; fail those that keep dying."""
    stale_after = timedelta(seconds=getattr(settings, "BULK_JOB_STALE_SECONDS", 300))
    max_attempts = getattr(settings, "BULK_JOB_MAX_ATTEMPTS", 5)
    cutoff = timezone.now() - stale_after
    requeued, failed = [], []
    stale = BackgroundJob.objects.filter(
        status__in=[Status.QUEUED, Status.RUNNING], task_name="stockroom.run_bulk_job"
    ).filter(heartbeat_at__lt=cutoff) | BackgroundJob.objects.filter(
        status=Status.QUEUED,
        task_name="stockroom.run_bulk_job",
        heartbeat_at__isnull=True,
        created_at__lt=cutoff,
    )
    for job in stale:
        if job.attempts >= max_attempts:
            BackgroundJob.finish(
                job.pk, Status.FAILED, f"Stopped: its worker died {job.attempts} times."
            )
            failed.append(job.pk)
            continue
        # Counts as a heartbeat so the job is not re-enqueued again before a worker takes it.
        BackgroundJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now())
        enqueue(job)
        requeued.append(job.pk)
    expired = remove_expired_files()
    from admin_customisations.importing.jobs import remove_abandoned_files

    uploads = remove_abandoned_files()
    return {
        "requeued": requeued,
        "failed": failed,
        "files_removed": expired,
        "import_files_removed": uploads,
    }


def remove_expired_files() -> int:
    """Delete job result files older than BULK_JOB_FILE_DAYS days."""
    days = getattr(settings, "BULK_JOB_FILE_DAYS", 7)
    old = BackgroundJob.objects.filter(
        finished_at__lt=timezone.now() - timedelta(days=days)
    ).exclude(result_file="")
    removed = 0
    for job in old:
        job.result_file.delete(save=False)
        BackgroundJob.objects.filter(pk=job.pk).update(result_file="")
        removed += 1
    return removed
