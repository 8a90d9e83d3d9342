"""Email copies of new notifications: sent once, per recipient, only to who wants them."""

from decimal import Decimal

import pytest

from admin_customisations.models import Notification
from admin_customisations.notifications import checks, services, tasks
from inventory.models import Part, PartSubscription
from tests.factories import PartFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def low_parts():
    parts = [PartFactory(minimum_stock=10) for _ in range(3)]
    Part.objects.filter(pk__in=[p.pk for p in parts]).update(in_stock_total=Decimal(1))
    return parts


def subscribe(user, parts):
    for part in parts:
        PartSubscription.objects.create(user=user, part=part)


def test_new_notifications_are_emailed_once(settings, mailoutbox, low_parts):
    settings.STOCKROOM_BASE_URL = "https://stock.example"
    ann = UserFactory(username="ann", email="ann@example.com", first_name="Ann")
    subscribe(ann, low_parts)
    assert tasks.check_low_stock() == 3  # the Celery task, run in-process
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["ann@example.com"]
    assert message.subject == "Stockroom: 3 new notifications"
    assert f"https://stock.example/admin/inventory/part/{low_parts[0].pk}/change/" in message.body
    assert "https://stock.example/admin/admin_customisations/notification/" in message.body
    assert not Notification.objects.filter(emailed_at__isnull=True).exists()
    tasks.check_low_stock()  # the next run: nothing new, no mail
    assert services.send_pending_emails() == 0
    assert len(mailoutbox) == 1


def test_no_email_when_turned_off_or_without_an_address(mailoutbox, low_parts):
    off = UserFactory(username="off", email="off@example.com")
    services.notification_preference_set(user=off, email=False)
    nomail = UserFactory(username="nomail", email="")
    subscribe(off, low_parts)
    subscribe(nomail, low_parts)
    assert checks.run_check("low_stock") == 6
    assert mailoutbox == []
    assert Notification.objects.filter(email_pending=True).count() == 0


def test_a_failing_mail_server_is_logged_and_the_check_goes_on(
    settings, mailoutbox, low_parts, caplog, monkeypatch
):
    ann = UserFactory(username="ann", email="ann@example.com")
    subscribe(ann, low_parts)

    def refuse(*args, **kwargs):
        raise OSError("connection refused")

    monkeypatch.setattr(services, "send_mail", refuse)
    assert checks.run_check("low_stock") == 3
    assert "Could not email notifications to ann" in caplog.text
    assert Notification.objects.count() == 3


def test_a_long_list_is_cut_in_the_email(mailoutbox, monkeypatch, low_parts):
    monkeypatch.setattr(services, "EMAIL_LIST_LIMIT", 2)
    ann = UserFactory(username="ann", email="ann@example.com")
    subscribe(ann, low_parts)
    checks.run_check("low_stock")
    assert "... and 1 more in your inbox." in mailoutbox[0].body
