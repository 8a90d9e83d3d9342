"""Spreadsheet exports of large selections run as background jobs.

``BackgroundExportMixin`` (on the base admin) intercepts django-import-export's export
when the filtered queryset is larger than ``BULK_JOB_THRESHOLD``: it records a job with the
export form as submitted and the changelist query, and sends the user to the job's page.
The worker rebuilds the same request (user, filters, form) and has the admin produce the
file exactly as it would inline; the file is attached to the job, downloadable only by the
requester and job administrators, and removed by the reaper after ``BULK_JOB_FILE_DAYS``.
Running an export twice writes the same file again (idempotent).
"""

from django.contrib import messages
from django.core.files.base import ContentFile
from django.http import QueryDict
from django.shortcuts import redirect
from django.utils.html import format_html

from admin_customisations.jobs.bulk import job_threshold
from admin_customisations.jobs.selection import request_as
from admin_customisations.models import BackgroundJob

EXPORT = "__export__"


class BackgroundExportMixin:
    """Exports over the threshold become jobs (see the module docstring)."""

    def _do_file_export(self, file_format, request, queryset, export_form=None):
        if getattr(request, "_stockroom_export_job", False) or queryset.count() <= job_threshold():
            return super()._do_file_export(file_format, request, queryset, export_form=export_form)
        job = start_export_job(model_admin=self, request=request, total=queryset.count())
        url = job.get_absolute_url()
        self.message_user(
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


def start_export_job(*, model_admin, request, total) -> BackgroundJob:
    from admin_customisations.jobs.runner import enqueue

    opts = model_admin.model._meta
    job = BackgroundJob.objects.create(
        name=f"Export: {opts.verbose_name_plural}",
        task_name="stockroom.run_bulk_job",
        action=f"{opts.label_lower}:{EXPORT}",
        params={
            name: request.POST.getlist(name)
            for name in request.POST
            if name != "csrfmiddlewaretoken"
        },
        selection={"query": request.META.get("QUERY_STRING", "")},
        total=total,
        created_by=request.user,
    )
    enqueue(job)
    return job


def run_export(job, model_admin) -> None:
    """Produce the job's file as the admin's export view would, and attach it to the job."""
    request = request_as(job.created_by, job.selection.get("query", ""))
    request.method = "POST"
    post = QueryDict(mutable=True)
    for name, values in job.params.items():
        post.setlist(name, values)
    request.POST = post
    request._stockroom_export_job = True
    if not model_admin.has_export_permission(request):
        BackgroundJob.finish(
            job.pk, BackgroundJob.Status.FAILED, "Not permitted: you may no longer export these."
        )
        return
    formats = model_admin.get_export_formats()
    form = model_admin.get_export_form_class()(
        formats, model_admin.get_export_resource_classes(request), data=post
    )
    if not form.is_valid():
        BackgroundJob.finish(
            job.pk, BackgroundJob.Status.FAILED, "The export form is no longer valid."
        )
        return
    file_format = formats[int(form.cleaned_data["format"])]()
    queryset = model_admin.get_export_queryset(request)
    data = model_admin.get_export_data(
        file_format, request, queryset, encoding=model_admin.to_encoding, export_form=form
    )
    if isinstance(data, str):
        data = data.encode("utf-8")
    name = model_admin.get_export_filename(request, queryset, file_format)
    if job.result_file:
        job.result_file.delete(save=False)
    job.result_file.save(f"job-{job.pk}-{name}", ContentFile(data), save=False)
    count = queryset.count()
    BackgroundJob.objects.filter(pk=job.pk).update(
        result_file=job.result_file.name, total=count, done=count, succeeded=count
    )
    BackgroundJob.finish(job.pk, BackgroundJob.Status.SUCCEEDED, f"{count} rows exported.")
