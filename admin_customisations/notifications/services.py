"""Raising, closing and reading notifications, and emailing them (every write is here).

``raise_notifications`` is the one writer the scheduled checks use: it creates one
notification per (recipient, condition, object) that has none open, in batches with
``bulk_create(ignore_conflicts=True)`` (the partial unique constraint makes a concurrent
run's duplicate a no-op), and closes the open notifications whose object no longer meets
the condition (``holds``), so the next occurrence notifies again. Recipients are filtered
to active staff accounts that are not system actors.
"""

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import islice

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone

from admin_customisations.notifications.models import Notification, NotificationPreference
from inventory.services.actors import system_usernames

logger = logging.getLogger(__name__)

BATCH = 1000
EMAIL_LIST_LIMIT = 50  # notifications listed in one email; the rest are counted


@dataclass
class Candidate:
    """An object that meets a check's condition, and who should hear about it."""

    object_id: int
    title: str
    message: str
    link: str
    recipients: set[int] = field(default_factory=set)


def admin_change_url(model):
    """``pk -> admin change URL`` for ``model`` (reverses once, not once per row)."""
    opts = model._meta
    marker = 987654321
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[marker])
    head, tail = url.split(str(marker), 1)
    return lambda pk: f"{head}{pk}{tail}"


def eligible_recipients() -> tuple[set[int], set[int]]:
    """(ids of users who may receive notifications, ids of those who want them emailed):
    active staff accounts, not system actors; email needs an address and email on."""
    users = (
        get_user_model()
        ._default_manager.filter(is_active=True, is_staff=True)
        .exclude(username__in=system_usernames())
    )
    people, emailable = set(), set()
    off = set(NotificationPreference.objects.filter(email=False).values_list("user_id", flat=True))
    for pk, email in users.values_list("pk", "email").iterator(chunk_size=5000):
        people.add(pk)
        if email and pk not in off:
            emailable.add(pk)
    return people, emailable


def _batches(iterable, size):
    iterator = iter(iterable)
    while batch := list(islice(iterator, size)):
        yield batch


def raise_notifications(*, condition: str, model, candidates: Iterable[Candidate], holds) -> int:
    """Notify each candidate's recipients once per open condition; close those that cleared.

    ``candidates`` is consumed in batches (a generator over a streamed query is fine);
    ``holds`` is the queryset of ``model`` objects that meet the condition now. Returns
    how many notifications were created."""
    content_type = ContentType.objects.get_for_model(model, for_concrete_model=False)
    open_ones = Notification.objects.filter(
        condition=condition, content_type=content_type, is_open=True
    )
    # close first: an object that stopped (and started again) meeting the condition
    # between two runs is not told apart, the notification simply stays
    open_ones.exclude(Exists(holds.filter(pk=OuterRef("object_id")))).update(is_open=False)
    people, emailable = eligible_recipients()
    created = 0
    for batch in _batches(candidates, BATCH):
        batch = [c for c in batch if c.recipients & people]
        if not batch:
            continue
        existing = set(
            open_ones.filter(object_id__in=[c.object_id for c in batch]).values_list(
                "recipient_id", "object_id"
            )
        )
        rows = [
            Notification(
                recipient_id=user_id,
                condition=condition,
                content_type=content_type,
                object_id=candidate.object_id,
                title=candidate.title[:200],
                message=candidate.message,
                link=candidate.link[:500],
                email_pending=user_id in emailable,
            )
            for candidate in batch
            for user_id in sorted(candidate.recipients & people)
            if (user_id, candidate.object_id) not in existing
        ]
        with transaction.atomic():
            Notification.objects.bulk_create(rows, batch_size=500, ignore_conflicts=True)
        created += len(rows)
    return created


# ---------------------------------------------------------------- the recipient's own


def notifications_mark_read(*, user, queryset) -> int:
    """Mark ``user``'s notifications in ``queryset`` read (others' are left alone)."""
    return queryset.filter(recipient=user, read_at__isnull=True).update(read_at=timezone.now())


def notifications_mark_all_read(*, user) -> int:
    return notifications_mark_read(user=user, queryset=Notification.objects.all())


def email_enabled(user) -> bool:
    preference = NotificationPreference.objects.filter(user=user).first()
    return preference.email if preference else True


@transaction.atomic
def notification_preference_set(*, user, email: bool) -> NotificationPreference:
    """Turn ``user``'s notification emails on or off (pending emails follow at once)."""
    preference, _ = NotificationPreference.objects.update_or_create(
        user=user, defaults={"email": email}
    )
    if not email:
        Notification.objects.filter(recipient=user, email_pending=True).update(email_pending=False)
    return preference


# ---------------------------------------------------------------- email


def _email_text(user, rows, total) -> tuple[str, str]:
    subject = (
        f"Stockroom: {rows[0]['title']}" if total == 1 else f"Stockroom: {total} new notifications"
    )
    base = getattr(settings, "STOCKROOM_BASE_URL", "").rstrip("/")
    lines = [f"Hello {user.get_full_name() or user.username},", ""]
    for row in rows:
        lines.append(f"- {row['title']}")
        if row["message"]:
            lines.append(f"  {row['message']}")
        if row["link"]:
            lines.append(f"  {base}{row['link']}")
    if total > len(rows):
        lines.append(f"... and {total - len(rows):,} more in your inbox.")
    lines += ["", f"Inbox: {base}{reverse('admin:admin_customisations_notification_changelist')}"]
    lines.append("Turn these emails off in the inbox (Email settings).")
    return subject, "\n".join(lines)


def send_pending_emails() -> int:
    """Email each recipient their pending notifications (one message per recipient).

    A recipient's pending rows are claimed (``email_pending`` off, ``emailed_at`` set) in
    one transaction before the message goes out, so two runs never send the same ones;
    a sending failure is logged and never breaks the check. Returns messages sent."""
    users = get_user_model()._default_manager
    recipients = list(
        Notification.objects.filter(email_pending=True)
        .order_by()
        .values_list("recipient_id", flat=True)
        .distinct()
    )
    sent = 0
    for user in users.filter(pk__in=recipients).only("pk", "username", "email", "first_name"):
        with transaction.atomic():
            pending = Notification.objects.filter(recipient=user, email_pending=True)
            rows = list(
                pending.select_for_update()
                .order_by("-id")
                .values("id", "title", "message", "link")[:EMAIL_LIST_LIMIT]
            )
            total = pending.update(email_pending=False, emailed_at=timezone.now())
        if not rows or not user.email:
            continue
        subject, body = _email_text(user, rows, max(total, len(rows)))
        try:
            send_mail(subject, body, None, [user.email])
        except Exception:  # noqa: BLE001  (a mail server problem must not stop the checks)
            logger.exception("Could not email notifications to %s", user.username)
            continue
        sent += 1
    return sent
