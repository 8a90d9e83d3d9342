"""django-axes' login records in the admin, in unfold's look (docs/security.md "Login lockout").

Re-registered the same way as the Celery admins in ``admin.py``: axes' own admin classes
with unfold's ``ModelAdmin``. The "admin" role covers the three models; deleting access
attempts (the **Reset lockout** action) unlocks the username + IP combinations selected.
"""

from axes import admin as axes_admin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from unfold.admin import ModelAdmin


class AccessAttemptAdmin(axes_admin.AccessAttemptAdmin, ModelAdmin):
    actions = ["reset_lockout", "cleanup_expired_attempts"]

    @admin.action(
        description="Reset lockout (delete the selected attempts)", permissions=["delete"]
    )
    def reset_lockout(self, request, queryset):
        pairs = sorted({f"{a.username} from {a.ip_address}" for a in queryset})
        count, _ = queryset.delete()
        self.message_user(
            request, f"Unlocked {len(pairs)}: {', '.join(pairs)}." if count else "Nothing to reset."
        )

    @admin.action(description="Clean up expired attempts", permissions=["delete"])
    def cleanup_expired_attempts(self, request, queryset):
        return super().cleanup_expired_attempts(request, queryset)


for _model, _admin in [
    (AccessAttempt, AccessAttemptAdmin),
    (AccessLog, type("AccessLogAdmin", (axes_admin.AccessLogAdmin, ModelAdmin), {})),
    (
        AccessFailureLog,
        type("AccessFailureLogAdmin", (axes_admin.AccessFailureLogAdmin, ModelAdmin), {}),
    ),
]:
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)
    admin.site.register(_model, _admin)
