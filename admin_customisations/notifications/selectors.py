"""Reads of a user's inbox (the sidebar badge, the dashboard's "My unread notifications").

Both read the partial index ``notification_unread_idx`` (recipient, newest first, unread
only): cheap however large the table grows.
"""

from admin_customisations.notifications.models import Notification


def unread_notifications(user, limit: int = 10) -> list[Notification]:
    """``user``'s newest unread notifications, at most ``limit`` (one query)."""
    if not getattr(user, "pk", None):
        return []
    return list(
        Notification.objects.filter(recipient=user, read_at__isnull=True).order_by(
            "-created_at", "-id"
        )[:limit]
    )


def unread_count(user) -> int:
    """How many unread notifications ``user`` has (one indexed COUNT)."""
    if not getattr(user, "pk", None):
        return 0
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def unread_badge(request) -> str:
    """The sidebar badge of the inbox: the unread count, empty when there is none.

    The count comes with ``request.user`` (``notifications.auth``: loaded in the same query
    as the user); a user set by other means costs one query, once per request."""
    from admin_customisations.notifications.auth import ATTRIBUTE

    count = getattr(request.user, ATTRIBUTE, None)
    if count is None:
        count = unread_count(request.user)
        if getattr(request.user, "pk", None):
            setattr(request.user, ATTRIBUTE, count)
    return str(count) if count else ""
