"""The change log: one row per historical record of every tracked model.

Written in the same transaction as the simple-history record it indexes
(``admin_customisations.history.changelog``), so the system-wide "Recent changes" list reads
one narrow, indexed table instead of a union over thirty history tables. The historical
record stays the source of truth for field values (the diff is rendered from it).
"""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models


class ChangeLogEntry(models.Model):
    """One change of one tracked object: who, when, what kind, why."""

    CREATED, CHANGED, DELETED = "+", "~", "-"
    TYPES = [(CREATED, "Created"), (CHANGED, "Changed"), (DELETED, "Deleted")]

    history_date = models.DateTimeField("date")
    content_type = models.ForeignKey(
        ContentType, verbose_name="model", on_delete=models.CASCADE, related_name="+"
    )
    object_id = models.BigIntegerField("object id")
    history_id = models.BigIntegerField("version id", help_text="The historical record's id.")
    history_type = models.CharField("change", max_length=1, choices=TYPES)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="user",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
    )
    reason = models.CharField("reason", max_length=255, blank=True)
    object_repr = models.CharField(
        "object",
        max_length=200,
        blank=True,
        help_text="The object's name, IPN or reference when the change was made (searchable).",
    )

    class Meta:
        app_label = "admin_customisations"
        verbose_name = "change"
        verbose_name_plural = "recent changes"
        ordering = ["-history_date", "-id"]
        default_permissions = ()  # visibility follows the tracked models (history/log_admin.py)
        constraints = [
            models.UniqueConstraint(
                fields=["content_type", "history_id"], name="changelog_unique_record"
            )
        ]
        indexes = [
            models.Index(fields=["-history_date", "-id"], name="changelog_date_idx"),
            models.Index(fields=["user", "-history_date", "-id"], name="changelog_user_date_idx"),
            models.Index(
                fields=["content_type", "-history_date", "-id"], name="changelog_model_date_idx"
            ),
            models.Index(
                fields=["history_type", "-history_date", "-id"], name="changelog_type_date_idx"
            ),
            models.Index(fields=["content_type", "object_id"], name="changelog_object_idx"),
        ]

    def __str__(self):
        return f"{self.get_history_type_display()} {self.object_repr} ({self.history_date:%Y-%m-%d %H:%M})"
