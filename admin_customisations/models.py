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
        PARTIAL = "partial", "Partially failed"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    FINISHED = (Status.SUCCEEDED, Status.PARTIAL, Status.FAILED, Status.CANCELLED)

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

    # Bulk-job state (admin_customisations/jobs): what to run, over what, and how far it got.
    action = models.CharField(
        "action",
        max_length=200,
        blank=True,
        help_text="The admin action a bulk job runs, as <app>.<model>:<action name>.",
    )
    params = models.JSONField(
        "form data", default=dict, blank=True, help_text="The action form as submitted."
    )
    selection = models.JSONField(
        "selection",
        default=dict,
        blank=True,
        help_text="The changelist query (filters, search) or the ids picked on one page.",
    )
    cursor = models.BigIntegerField(
        "last processed id", default=0, help_text="Chunks resume after this primary key."
    )
    succeeded = models.PositiveIntegerField("succeeded", default=0)
    skipped = models.PositiveIntegerField("skipped", default=0)
    failed = models.PositiveIntegerField("failed", default=0)
    attempts = models.PositiveSmallIntegerField(
        "attempts", default=0, help_text="How often a worker started (or resumed) this job."
    )
    heartbeat_at = models.DateTimeField("last heartbeat", null=True, blank=True)
    cancel_requested = models.BooleanField("cancel requested", default=False)
    retry_of = models.ForeignKey(
        "self",
        verbose_name="retry of",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="retries",
        help_text="The job whose failed objects this job re-runs.",
    )
    result_file = models.FileField(
        "result file", upload_to="jobs/", blank=True, help_text="An export produced by the job."
    )

    history = HistoricalRecords(excluded_fields=["heartbeat_at", "cursor"])

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "background job"
        indexes = [models.Index(fields=["status", "heartbeat_at"], name="job_status_heartbeat")]

    def __str__(self):
        return f"{self.name} ({self.get_status_display()})"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("admin:admin_customisations_backgroundjob_change", args=[self.pk])

    @property
    def percent(self) -> int:
        """Progress in whole percent (0 when the size is unknown)."""
        return min(100, int(self.done * 100 / self.total)) if self.total else 0

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED

    @classmethod
    def finish(cls, job_id: int, status: str, message: str = "") -> None:
        """Mark job ``job_id`` finished (an UPDATE: progress rows write no history)."""
        from django.utils import timezone

        now = timezone.now()
        cls.objects.filter(pk=job_id).update(
            status=status, message=message, finished_at=now, heartbeat_at=now
        )


class JobItem(models.Model):
    """What a bulk job did to one object: the record that makes a job exactly-once.

    Written in the same transaction as the object's change, so a chunk that is
    re-run after a worker died skips every object already recorded here.
    """

    class Outcome(models.TextChoices):
        SUCCEEDED = "succeeded", "Changed"
        SKIPPED = "skipped", "Skipped"
        FAILED = "failed", "Failed"

    job = models.ForeignKey(
        BackgroundJob, verbose_name="job", on_delete=models.CASCADE, related_name="items"
    )
    object_id = models.BigIntegerField("object id")
    object_repr = models.CharField("object", max_length=200)
    outcome = models.CharField("outcome", max_length=20, choices=Outcome.choices)
    message = models.TextField("message", blank=True)

    class Meta:
        ordering = ["job", "object_id"]
        verbose_name = "job item"
        constraints = [
            models.UniqueConstraint(fields=["job", "object_id"], name="jobitem_unique_job_object")
        ]
        indexes = [models.Index(fields=["job", "outcome"], name="jobitem_job_outcome")]

    def __str__(self):
        return f"{self.object_repr}: {self.get_outcome_display()}"


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


class ImportRun(models.Model):
    """One spreadsheet upload: validated (preview), then committed all-or-nothing.

    The uploaded file lives under MEDIA_ROOT/imports/ only while the run is in progress:
    it is deleted when the run is committed, fails or is found invalid, and the job
    reaper deletes files of runs abandoned for a day (admin_customisations/importing).
    """

    class Status(models.TextChoices):
        UPLOADED = "uploaded", "Uploaded"
        VALIDATING = "validating", "Validating"
        VALID = "valid", "Valid: ready to import"
        INVALID = "invalid", "Has errors"
        COMMITTING = "committing", "Importing"
        COMMITTED = "committed", "Imported"
        FAILED = "failed", "Failed"

    FINISHED = (Status.INVALID, Status.COMMITTED, Status.FAILED)

    resource = models.CharField(
        "resource", max_length=60, help_text="The registered resource, e.g. 'parts'."
    )
    file = models.FileField(
        "file", upload_to="imports/", blank=True, help_text="Deleted when the import ends."
    )
    original_name = models.CharField("file name", max_length=255)
    file_size = models.PositiveBigIntegerField("file size (bytes)", default=0)
    format = models.CharField("format", max_length=10, blank=True)
    delimiter = models.CharField(
        "delimiter", max_length=5, blank=True, help_text="Empty: detected from the file."
    )
    encoding = models.CharField("encoding", max_length=40, blank=True)
    options = models.JSONField("options", default=dict, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="imported by",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="import_runs",
    )
    status = models.CharField(
        "status", max_length=20, choices=Status.choices, default=Status.UPLOADED, db_index=True
    )
    total_rows = models.PositiveIntegerField("rows", default=0)
    new_count = models.PositiveIntegerField("new", default=0)
    updated_count = models.PositiveIntegerField("updated", default=0)
    unchanged_count = models.PositiveIntegerField("unchanged", default=0)
    error_count = models.PositiveIntegerField("rows with errors", default=0)
    errors = models.JSONField(
        "errors",
        default=list,
        blank=True,
        help_text="[{'row': 17, 'column': 'Category', 'message': ...}], at most 10,000.",
    )
    message = models.TextField("message", blank=True, help_text="Outcome in words.")
    fingerprint = models.CharField(
        "fingerprint", max_length=64, blank=True, help_text="Digest of the validated plan."
    )
    plan = models.TextField(
        "row digests",
        blank=True,
        help_text="Per row: its action letter and a short digest of its changes (preview).",
    )
    job = models.ForeignKey(
        BackgroundJob,
        verbose_name="job",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="import_runs",
    )
    created_at = models.DateTimeField("uploaded", auto_now_add=True, db_index=True)
    validated_at = models.DateTimeField("validated", null=True, blank=True)
    committed_at = models.DateTimeField("imported", null=True, blank=True)
    finished_at = models.DateTimeField("finished", null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "import run"

    def __str__(self):
        return f"Import #{self.pk}: {self.original_name} ({self.get_status_display()})"

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED

    @property
    def history_reason(self) -> str:
        """The change reason of every history row this import writes."""
        return f"Imported from {self.original_name} (import #{self.pk})"[:100]

    def summary(self) -> dict:
        return {
            "status": self.status,
            "rows": self.total_rows,
            "new": self.new_count,
            "updated": self.updated_count,
            "unchanged": self.unchanged_count,
            "errors": self.error_count,
            "message": self.message,
        }

    def delete_file(self) -> None:
        """Remove the uploaded file (the run keeps its summary and errors)."""
        if self.file:
            self.file.delete(save=False)
            type(self).objects.filter(pk=self.pk).update(file="")


from admin_customisations.dashboard.models import DashboardSnapshot  # noqa: E402,F401  (registers the model)
from admin_customisations.history.models import ChangeLogEntry  # noqa: E402,F401  (registers the model)
from admin_customisations.notifications.models import (  # noqa: E402,F401  (registers the models)
    Notification,
    NotificationPreference,
)
