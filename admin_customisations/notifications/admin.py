"""The inbox: each user's own notifications (nobody sees or marks anyone else's).

Every active staff user has one, superusers included, whatever their roles: the list is
always limited to ``recipient = request.user`` and opening someone else's notification
answers 403. Notifications are raised by the scheduled checks only (no add, change or
delete page); the recipient marks them read (selected ones, or all) and turns the email
copies on or off. The sidebar entry carries the unread count (``selectors.unread_badge``).
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.html import format_html
from unfold.admin import ModelAdmin
from unfold.decorators import action, display
from unfold.forms import BaseDialogForm
from unfold.widgets import UnfoldBooleanSwitchWidget

from admin_customisations.base import JavaScriptCatalogMixin
from admin_customisations.filters import DefaultChoiceFilter
from admin_customisations.notifications import services
from admin_customisations.notifications.models import Notification

INBOX = "admin:admin_customisations_notification_changelist"

CONDITION_BADGES = {
    Notification.Condition.LOW_STOCK: "warning",
    Notification.Condition.STOCK_EXPIRING: "warning",
    Notification.Condition.STOCK_EXPIRED: "danger",
    Notification.Condition.PURCHASE_ORDER_OVERDUE: "danger",
    Notification.Condition.SALES_ORDER_OVERDUE: "danger",
    Notification.Condition.RETURN_ORDER_OVERDUE: "danger",
    Notification.Condition.BUILD_ORDER_OVERDUE: "danger",
    Notification.Condition.JOB_FAILED: "danger",
}


class ReadFilter(DefaultChoiceFilter):
    """Unread by default; "Read" and "All" on request."""

    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [("unread", "Unread"), ("read", "Read"), ("all", "All")]

    def default(self, request):
        return "unread"

    def queryset(self, request, queryset):
        if self.value() == "unread":
            return queryset.filter(read_at__isnull=True)
        if self.value() == "read":
            return queryset.filter(read_at__isnull=False)
        return queryset


def marked_read_message(count: int) -> str:
    return f"Marked {count} notification{'' if count == 1 else 's'} read."


class ConfirmDialogForm(BaseDialogForm):
    """Nothing to fill in: the dialog confirms (and makes the request a POST)."""


class EmailDialogForm(BaseDialogForm):
    email = forms.BooleanField(
        label="Email me new notifications",
        required=False,
        widget=UnfoldBooleanSwitchWidget,
        help_text="One message per check run, to the address of your account.",
    )

    def __init__(self, request, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        self.fields["email"].initial = services.email_enabled(request.user)


def _back_to_inbox(request):
    """Close the dialog by loading the inbox (htmx follows ``HX-Redirect``)."""
    url = reverse(INBOX)
    if request.headers.get("HX-Request"):
        response = HttpResponse(status=200)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


@admin.register(Notification)
class NotificationAdmin(JavaScriptCatalogMixin, ModelAdmin):
    list_display = ["headline", "condition_badge", "message", "created_at", "read_state"]
    list_display_links = None
    list_filter = [ReadFilter, "condition"]
    search_fields = ["title"]
    ordering = ["-created_at", "-id"]
    sortable_by = ()
    list_per_page = 50
    show_full_result_count = False
    actions = ["mark_read"]
    actions_list = ["mark_all_read", "email_settings"]
    readonly_fields = ["headline", "condition", "message", "created_at", "read_at", "emailed_at"]
    fields = readonly_fields

    # ------------------------------------------------------------------ permissions
    @staticmethod
    def _staff(request) -> bool:
        user = request.user
        return bool(user.is_active and user.is_staff)

    def has_module_permission(self, request):
        return self._staff(request)

    def has_view_permission(self, request, obj=None):
        if not self._staff(request):
            return False
        return obj is None or obj.recipient_id == request.user.pk

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).filter(recipient=request.user)

    def get_object(self, request, object_id, from_field=None):
        # among every notification, so someone else's answers 403 rather than "not found"
        try:
            return Notification.objects.filter(pk=int(object_id)).first()
        except (TypeError, ValueError):
            return None

    # ------------------------------------------------------------------ columns
    @display(description="notification")
    def headline(self, notification):
        if notification.link:
            return format_html('<a href="{}">{}</a>', notification.link, notification.title)
        return notification.title

    @display(description="condition", label=CONDITION_BADGES)
    def condition_badge(self, notification):
        return notification.condition, notification.get_condition_display()

    @display(description="read", label={"unread": "info", "read": ""})
    def read_state(self, notification):
        return "read" if notification.read_at else "unread"

    # ------------------------------------------------------------------ actions
    @admin.action(description="Mark read", permissions=["view"])
    def mark_read(self, request, queryset):
        marked = services.notifications_mark_read(user=request.user, queryset=queryset)
        self.message_user(request, marked_read_message(marked))

    @action(
        description="Mark all read",
        icon="done_all",
        permissions=["view"],
        dialog={
            "title": "Mark all read",
            "description": "Every notification in your inbox is marked read.",
            "form_class": ConfirmDialogForm,
            "form_submit_text": "Mark all read",
        },
    )
    def mark_all_read(self, request, form):
        if request.method != "POST":
            raise PermissionDenied
        marked = services.notifications_mark_all_read(user=request.user)
        self.message_user(request, marked_read_message(marked))
        return _back_to_inbox(request)

    @action(
        description="Email settings",
        icon="mail",
        permissions=["view"],
        dialog={
            "title": "Email settings",
            "description": "New notifications can also be emailed to you.",
            "form_class": EmailDialogForm,
            "form_submit_text": "Save",
        },
    )
    def email_settings(self, request, form):
        if request.method != "POST":
            raise PermissionDenied
        email = form.cleaned_data["email"]
        services.notification_preference_set(user=request.user, email=email)
        self.message_user(
            request,
            "New notifications will be emailed to you."
            if email
            else "New notifications will no longer be emailed to you.",
            messages.SUCCESS,
        )
        return _back_to_inbox(request)
