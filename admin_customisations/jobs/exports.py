"""Spreadsheet exports of large selections run as background jobs.

The export page (``admin_customisations.importing.admin``) calls ``export_or_start_job``:
up to ``BULK_JOB_THRESHOLD`` rows the file is the response; above it a job is recorded
with the chosen resource, format and columns and the changelist's filters, and the user
is sent to the job's page. The worker rebuilds the same changelist as the requesting user
and writes the file with the same code (``importing.exporting.write_export``); the file is
attached to the job, downloadable only by the requester and job administrators, and
removed by the reaper after ``BULK_JOB_FILE_DAYS``. Running an export twice writes the
same file again (idempotent).
"""

import tempfile

from django.contrib import messages
from django.core.files import File
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils.html import format_html

from admin_customisations.jobs.bulk import job_threshold
from admin_customisations.models import BackgroundJob

EXPORT = "__export__"


class BackgroundExportMixin:
    """Marker kept on the base admin: exports over the threshold become jobs (the export
    page itself lives in ``ImportExportAdminMixin``; see ``export_or_start_job``)."""


def export_or_start_job(
    *, model_admin, request, resource, filters, fmt, headers, queryset, total
) -> HttpResponse:
    """The file (small exports) or a redirect to the job that will write it."""
    from admin_customisations.importing.exporting import export_filename, write_export
    from admin_customisations.importing.writers import EXPORT_FORMATS

    if total <= job_threshold():
        response = HttpResponse(content_type=EXPORT_FORMATS[fmt].content_type)
        response["Content-Disposition"] = f'attachment; filename="{export_filename(resource, fmt)}"'
        write_export(resource, queryset, headers, fmt, response)
        return response
    job = start_export_job(
        model_admin=model_admin,
        request=request,
        resource=resource,
        filters=filters,
        fmt=fmt,
        headers=headers,
        total=total,
    )
    url = job.get_absolute_url()
    model_admin.message_user(
        request,
        format_html(
            "The export runs in the background as <a href='{}'>job #{}</a>; "
            "download the file from there when it is ready.",
            url,
            job.pk,
        ),
        messages.SUCCESS,
    )
    return redirect(url)


def start_export_job(*, model_admin, request, resource, filters, fmt, headers, total):
    from admin_customisations.importing.admin import in_sentence, resource_label
    from admin_customisations.jobs.runner import enqueue
    from inventory.services.common import create_with_history

    opts = model_admin.model._meta
    job = create_with_history(
        BackgroundJob,
        user=request.user,
        reason=f"Export of {opts.verbose_name_plural} started",
        name=f"Export: {in_sentence(resource_label(resource))}"[:200],
        task_name="stockroom.run_bulk_job",
        action=f"{opts.label_lower}:{EXPORT}",
        params={"resource": resource.name, "format": fmt, "columns": list(headers)},
        selection={"query": filters},
        total=total,
        created_by=request.user,
    )
    enqueue(job)
    return job


def run_export(job, model_admin) -> None:
    """Write the job's file as the export page would, and attach it to the job."""
    from admin_customisations.importing.admin import may_export
    from admin_customisations.importing.exporting import (
        BadFilters,
        export_filename,
        export_queryset,
        write_export,
    )
    from admin_customisations.importing.writers import EXPORT_FORMATS

    user = job.created_by
    params = job.params or {}
    try:
        resource = model_admin.sheet_resource(params.get("resource"))
    except Exception:  # noqa: BLE001  (Http404: the resource is gone)
        BackgroundJob.finish(
            job.pk, BackgroundJob.Status.FAILED, "This export is no longer offered."
        )
        return
    if user is None or not may_export(user, resource):
        BackgroundJob.finish(
            job.pk, BackgroundJob.Status.FAILED, "Not permitted: you may no longer export these."
        )
        return
    fmt = params.get("format") if params.get("format") in EXPORT_FORMATS else "csv"
    known = set(resource.headers())
    headers = [h for h in params.get("columns") or resource.headers() if h in known]
    if not headers:
        BackgroundJob.finish(
            job.pk, BackgroundJob.Status.FAILED, "None of the chosen columns exist any more."
        )
        return
    try:
        queryset = export_queryset(model_admin, resource, user, job.selection.get("query", ""))
    except BadFilters:
        BackgroundJob.finish(
            job.pk, BackgroundJob.Status.FAILED, "The list's filters are no longer valid."
        )
        return

    def progress(done):
        BackgroundJob.objects.filter(pk=job.pk).update(done=done)

    with tempfile.TemporaryFile() as handle:
        count = write_export(resource, queryset, headers, fmt, handle, progress=progress)
        handle.seek(0)
        if job.result_file:
            job.result_file.delete(save=False)
        job.result_file.save(
            f"job-{job.pk}-{export_filename(resource, fmt)}", File(handle), save=False
        )
    BackgroundJob.objects.filter(pk=job.pk).update(
        result_file=job.result_file.name, total=count, done=count, succeeded=count
    )
    BackgroundJob.finish(job.pk, BackgroundJob.Status.SUCCEEDED, f"{count} rows exported.")
