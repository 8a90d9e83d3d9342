"""Admin for cross-app models, and unfold styling for Django/Celery's own admins."""

from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group, User
from django_celery_beat import admin as beat_admin
from django_celery_beat.models import (
    ClockedSchedule,
    CrontabSchedule,
    IntervalSchedule,
    PeriodicTask,
    SolarSchedule,
)
from django_celery_results.admin import GroupResultAdmin as BaseGroupResultAdmin
from django_celery_results.admin import TaskResultAdmin as BaseTaskResultAdmin
from django_celery_results.models import GroupResult, TaskResult
from unfold.admin import ModelAdmin
from unfold.decorators import display
from unfold.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm

from admin_customisations.base import StockroomModelAdmin
from admin_customisations.models import BackgroundJob


@admin.register(BackgroundJob)
class BackgroundJobAdmin(StockroomModelAdmin):
    list_display = ["name", "status_badge", "progress", "created_by", "created_at", "finished_at"]
    list_filter = ["status"]
    search_fields = ["name", "task_id"]
    list_select_related = ["created_by"]
    readonly_fields = [
        "task_name",
        "task_id",
        "status",
        "total",
        "done",
        "message",
        "result",
        "created_by",
        "created_at",
        "started_at",
        "finished_at",
    ]

    @display(
        description="status",
        label={
            "queued": "info",
            "running": "warning",
            "succeeded": "success",
            "failed": "danger",
            "cancelled": "danger",
        },
    )
    def status_badge(self, job):
        return job.status, job.get_status_display()

    @display(description="progress")
    def progress(self, job):
        return f"{job.done}/{job.total} ({job.percent}%)" if job.total else "–"


admin.site.unregister(User)
admin.site.unregister(Group)


@admin.register(User)
class UserAdmin(BaseUserAdmin, ModelAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    change_password_form = AdminPasswordChangeForm
    list_display = [
        "username",
        "first_name",
        "last_name",
        "email",
        "is_staff",
        "is_superuser",
        "is_active",
    ]
    list_filter = ["is_staff", "is_superuser", "is_active", "groups"]


@admin.register(Group)
class GroupAdmin(BaseGroupAdmin, ModelAdmin):
    pass


for _model, _base in [
    (TaskResult, BaseTaskResultAdmin),
    (GroupResult, BaseGroupResultAdmin),
    (PeriodicTask, beat_admin.PeriodicTaskAdmin),
    (IntervalSchedule, beat_admin.IntervalScheduleAdmin),
    (CrontabSchedule, beat_admin.CrontabScheduleAdmin),
    (SolarSchedule, beat_admin.SolarScheduleAdmin),
    (ClockedSchedule, beat_admin.ClockedScheduleAdmin),
]:
    admin.site.unregister(_model)
    admin.site.register(_model, type(_base.__name__, (_base, ModelAdmin), {}))
