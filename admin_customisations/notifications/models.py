"""The notification inbox and each user's notification preferences.

One ``Notification`` per recipient, condition (low stock, overdue order, ...) and object
while the condition holds: ``is_open`` marks the notification whose condition still holds,
and a partial unique constraint allows one open notification per (recipient, condition,
object), so a check that runs every night (or twice at once) cannot raise a second one.
When the condition clears the check closes it (``is_open`` false) and a later recurrence
notifies again. Read state and email state are the recipient's own.
"""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q


class Notification(models.Model):
    """Something a user should look at: a part below its minimum stock, an overdue order, ..."""

    class Condition(models.TextChoices):
        LOW_STOCK = "low_stock", "Low stock"
        STOCK_EXPIRING = "stock_expiring", "Stock expiring soon"
        STOCK_EXPIRED = "stock_expired", "Stock expired"
        PURCHASE_ORDER_OVERDUE = "purchase_order_overdue", "Purchase order overdue"
        SALES_ORDER_OVERDUE = "sales_order_overdue", "Sales order overdue"
        RETURN_ORDER_OVERDUE = "return_order_overdue", "Return order overdue"
        BUILD_ORDER_OVERDUE = "build_order_overdue", "Build order overdue"
        JOB_FAILED = "job_failed", "Background job failed"

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="recipient",
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    condition = models.CharField("condition", max_length=40, choices=Condition.choices)
    content_type = models.ForeignKey(
        ContentType, verbose_name="object type", on_delete=models.CASCADE, related_name="+"
    )
    object_id = models.BigIntegerField("object id")
    title = models.CharField("title", max_length=200)
    message = models.TextField("message", blank=True)
    link = models.CharField(
        "link", max_length=500, blank=True, help_text="The admin page of the object."
    )
    created_at = models.DateTimeField("raised", auto_now_add=True)
    read_at = models.DateTimeField("read", null=True, blank=True)
    is_open = models.BooleanField(
        "condition holds",
        default=True,
        help_text="Cleared when the condition no longer holds; a recurrence notifies again.",
    )
    email_pending = models.BooleanField(
        "email pending", default=False, help_text="Waiting to be emailed to the recipient."
    )
    emailed_at = models.DateTimeField("emailed", null=True, blank=True)

    class Meta:
        app_label = "admin_customisations"
        verbose_name = "notification"
        verbose_name_plural = "notifications"
        ordering = ["-created_at", "-id"]
        default_permissions = ()  # everyone on the staff has an inbox of their own (admin.py)
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "condition", "content_type", "object_id"],
                condition=Q(is_open=True),
                name="notification_one_open_per_condition",
            )
        ]
        indexes = [
            # the inbox (newest first) and the unread badge
            models.Index(fields=["recipient", "-created_at", "-id"], name="notification_inbox_idx"),
            models.Index(
                fields=["recipient", "-created_at"],
                condition=Q(read_at__isnull=True),
                name="notification_unread_idx",
            ),
            # a check closing the notifications whose condition cleared
            models.Index(
                fields=["condition", "object_id"],
                condition=Q(is_open=True),
                name="notification_open_idx",
            ),
            models.Index(
                fields=["recipient", "id"],
                condition=Q(email_pending=True),
                name="notification_email_idx",
            ),
        ]

    def __str__(self):
        return self.title

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class NotificationPreference(models.Model):
    """A user's notification settings (no row: the defaults)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name="user",
        on_delete=models.CASCADE,
        related_name="notification_preference",
    )
    email = models.BooleanField(
        "email me new notifications",
        default=True,
        help_text="Sent to the address of your account when email is configured.",
    )

    class Meta:
        app_label = "admin_customisations"
        verbose_name = "notification preference"
        default_permissions = ()

    def __str__(self):
        return f"{self.user}: email {'on' if self.email else 'off'}"
