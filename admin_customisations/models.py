"""Cross-app models: background jobs started from the admin."""

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords


class BackgroundJob(models.Model):
    """A long-running piece of work (bulk action, import, export) run by a Celery worker.

    Tasks record progress here so the admin can show it; the Celery result row
    (django-celery-results) holds the low-level outcome.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    name = models.CharField("name", max_length=200, help_text="What the job does, in words.")
    task_name = models.CharField("task", max_length=200, blank=True)
    task_id = models.CharField("Celery task id", max_length=255, blank=True, db_index=True)
    status = models.CharField(
        "status", max_length=20, choices=Status.choices, default=Status.QUEUED, db_index=True
    )
    total = models.PositiveIntegerField("total steps", default=0)
    done = models.PositiveIntegerField("steps done", default=0)
    message = models.TextField("message", blank=True, help_text="Last progress or error message.")
    result = models.JSONField("result", default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="started by",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="background_jobs",
    )
    created_at = models.DateTimeField("created", auto_now_add=True, db_index=True)
    started_at = models.DateTimeField("started", null=True, blank=True)
    finished_at = models.DateTimeField("finished", null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "background job"

    def __str__(self):
        return f"{self.name} ({self.get_status_display()})"

    @property
    def percent(self) -> int:
        """Progress in whole percent (0 when the size is unknown)."""
        return int(self.done * 100 / self.total) if self.total else 0


class GroupRole(models.Model):
    """What a group may do with one role's models (see admin_customisations/roles.py)."""

    group = models.ForeignKey(
        "auth.Group", verbose_name="group", on_delete=models.CASCADE, related_name="roles"
    )
    role = models.CharField("role", max_length=40)
    can_view = models.BooleanField("view", default=False)
    can_add = models.BooleanField("add", default=False)
    can_change = models.BooleanField("change", default=False)
    can_delete = models.BooleanField("delete", default=False)

    history = HistoricalRecords()

    class Meta:
        ordering = ["group", "role"]
        verbose_name = "group role"
        constraints = [
            models.UniqueConstraint(fields=["group", "role"], name="grouprole_unique_group_role")
        ]

    def __str__(self):
        return f"{self.group.name}: {self.role} ({', '.join(self.actions()) or 'none'})"

    def actions(self) -> tuple[str, ...]:
        """The actions this row grants, view implied by any other."""
        granted = tuple(a for a in ("view", "add", "change", "delete") if getattr(self, f"can_{a}"))
        if granted and "view" not in granted:
            granted = ("view", *granted)
        return granted
