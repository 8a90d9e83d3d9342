"""The Jobs pages: my jobs (all of them for job administrators), progress, failures, cancel, retry."""

import csv

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST
from unfold.decorators import display

from admin_customisations.base import StockroomModelAdmin
from admin_customisations.filters import DefaultChoiceFilter
from admin_customisations.jobs import runner
from admin_customisations.models import BackgroundJob, JobItem

FAILED_PER_PAGE = 50


def is_job_admin(user) -> bool:
    """Job administrators (the admin role with change) see and manage everyone's jobs."""
    return user.is_superuser or user.has_perm("admin_customisations.change_backgroundjob")


def may_see_all_jobs(user) -> bool:
    """The admin role (view or more) sees everyone's jobs; others only their own."""
    return user.is_superuser or user.has_perm("admin_customisations.view_backgroundjob")


def may_see_job(user, job) -> bool:
    return job.created_by_id == user.pk or may_see_all_jobs(user)


def may_manage_job(user, job) -> bool:
    """Cancel, retry and download: the requester and job administrators."""
    return job.created_by_id == user.pk or is_job_admin(user)


class StartedByFilter(DefaultChoiceFilter):
    """Job administrators see every job by default, everyone else their own ("me")."""

    title = "started by"
    parameter_name = "started_by"

    def lookups(self, request, model_admin):
        if not may_see_all_jobs(request.user):
            return []
        return [("me", "Me"), ("all", "Everyone")]

    def default(self, request):
        return "all" if is_job_admin(request.user) else "me"

    def queryset(self, request, queryset):
        if self.value() == "all" and may_see_all_jobs(request.user):
            return queryset
        return queryset.filter(created_by=request.user)


def progress_of(job) -> dict:
    """The figures the job page shows and polls."""
    elapsed = eta = None
    if job.started_at:
        elapsed = ((job.finished_at or timezone.now()) - job.started_at).total_seconds()
        if not job.is_finished and job.done and job.total > job.done:
            eta = elapsed / job.done * (job.total - job.done)
    return {
        "id": job.pk,
        "status": job.status,
        "status_label": job.get_status_display(),
        "finished": job.is_finished,
        "total": job.total,
        "processed": job.done,
        "succeeded": job.succeeded,
        "skipped": job.skipped,
        "failed": job.failed,
        "percent": 100 if job.is_finished else job.percent,
        "elapsed_seconds": round(elapsed, 1) if elapsed is not None else None,
        "eta_seconds": round(eta) if eta is not None else None,
        "message": job.message,
        "cancel_requested": job.cancel_requested,
    }


@admin.register(BackgroundJob)
class BackgroundJobAdmin(StockroomModelAdmin):
    list_display = ["id", "name", "status_badge", "progress", "outcome", "created_by", "created_at"]
    list_display_links = ["id", "name"]
    list_filter = [StartedByFilter, "status"]
    search_fields = ["name"]
    list_select_related = ["created_by"]
    ordering = ["-pk"]
    actions = None

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if may_see_all_jobs(request.user):
            return queryset
        return queryset.filter(created_by=request.user)

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None):
        # everyone on the staff may follow their own jobs; the admin role sees all of them
        if not (request.user.is_active and request.user.is_staff):
            return False
        return obj is None or may_see_job(request.user, obj)

    def has_add_permission(self, request):
        return False  # jobs are started by actions, imports and exports

    def has_change_permission(self, request, obj=None):
        return False  # progress is written by the runner only; cancel/retry are their own views

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/progress/", view(self.progress_view), name="job_progress"),
            path("<int:pk>/cancel/", view(require_POST(self.cancel_view)), name="job_cancel"),
            path("<int:pk>/retry/", view(require_POST(self.retry_view)), name="job_retry"),
            path("<int:pk>/failed.csv", view(self.failed_csv_view), name="job_failed_csv"),
            path("<int:pk>/download/", view(self.download_view), name="job_download"),
            *super().get_urls(),
        ]

    def _job(self, request, pk, *, manage=False):
        job = get_object_or_404(BackgroundJob.objects.select_related("created_by"), pk=pk)
        allowed = may_manage_job if manage else may_see_job
        if not allowed(request.user, job):
            raise PermissionDenied
        return job

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if request.method != "GET":
            raise PermissionDenied  # the page is read-only; cancel and retry have their own views
        try:
            job = self._job(request, int(object_id))
        except ValueError:
            raise Http404 from None
        failed = job.items.filter(outcome=JobItem.Outcome.FAILED).order_by("object_id")
        page = Paginator(failed, FAILED_PER_PAGE).get_page(request.GET.get("failed_page"))
        object_url = _object_url(job)
        for item in page:
            item.admin_url = object_url(item.object_id) if object_url else None
        context = {
            **self.admin_site.each_context(request),
            "title": f"#{job.pk} {job}",
            "subtitle": None,
            "opts": self.model._meta,
            "job": job,
            "progress": progress_of(job),
            "failed_page": page,
            "may_manage": may_manage_job(request.user, job),
        }
        return TemplateResponse(request, "admin_customisations/jobs/job_detail.html", context)

    def progress_view(self, request, pk):
        return JsonResponse(progress_of(self._job(request, pk)))

    def cancel_view(self, request, pk):
        job = self._job(request, pk, manage=True)
        try:
            runner.request_cancel(job)
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
        else:
            self.message_user(request, "Cancelling: the job stops after its current chunk.")
        return redirect(job)

    def retry_view(self, request, pk):
        job = self._job(request, pk, manage=True)
        try:
            retry = runner.retry_failed(job, user=request.user)
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
            return redirect(job)
        self.message_user(request, f"Retrying {retry.total} failed objects as job #{retry.pk}.")
        return redirect(retry)

    def failed_csv_view(self, request, pk):
        job = self._job(request, pk)
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="job-{job.pk}-failed.csv"'
        writer = csv.writer(response)
        writer.writerow(["object id", "object", "message"])
        rows = job.items.filter(outcome=JobItem.Outcome.FAILED).order_by("object_id")
        for item in rows.iterator(chunk_size=2000):
            writer.writerow(
                [item.object_id, _neutralise(item.object_repr), _neutralise(item.message)]
            )
        return response

    def download_view(self, request, pk):
        job = self._job(request, pk, manage=True)
        if not job.result_file:
            raise Http404("This job has no file (or it has expired).")
        return FileResponse(job.result_file.open("rb"), as_attachment=True)

    @display(
        description="status",
        label={
            "queued": "info",
            "running": "warning",
            "succeeded": "success",
            "partial": "warning",
            "failed": "danger",
            "cancelled": "danger",
        },
    )
    def status_badge(self, job):
        return job.status, job.get_status_display()

    @display(description="progress")
    def progress(self, job):
        return f"{job.done}/{job.total} ({job.percent}%)" if job.total else "–"

    @display(description="changed / skipped / failed")
    def outcome(self, job):
        return f"{job.succeeded} / {job.skipped} / {job.failed}"


def _object_url(job):
    """A function giving the admin URL of one of the job's objects (None when unknown)."""
    if not job.action:
        return None
    label = job.action.split(":", 1)[0]
    app_label, model_name = label.split(".")

    def url(object_id):
        return reverse(f"admin:{app_label}_{model_name}_change", args=[object_id])

    return url


def _neutralise(value: str) -> str:
    """Spreadsheet formula neutralisation for a CSV cell."""
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
