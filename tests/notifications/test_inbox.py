"""The inbox: own notifications only, mark read / all read, email settings, the badge."""

import re

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from admin_customisations.models import Notification, NotificationPreference
from admin_customisations.notifications.selectors import unread_count, unread_notifications
from inventory.models import Part
from tests.factories import PartFactory, UserFactory

pytestmark = pytest.mark.django_db
INBOX = reverse("admin:admin_customisations_notification_changelist")


def note(user, part, title="Low stock", **fields):
    return Notification.objects.create(
        recipient=user,
        condition=Notification.Condition.LOW_STOCK,
        content_type=ContentType.objects.get_for_model(Part),
        object_id=part.pk,
        title=title,
        link=f"/admin/inventory/part/{part.pk}/change/",
        **fields,
    )


@pytest.fixture
def people():
    return UserFactory(username="me"), UserFactory(username="you")


def test_each_user_sees_only_their_own_unread_notifications(client, people):
    me, you = people
    part = PartFactory()
    mine = note(me, part, "Low stock: mine")
    note(me, part, "Low stock: read already", is_open=False).__class__.objects.filter(
        title="Low stock: read already"
    ).update(read_at="2026-01-01T00:00Z")
    note(you, part, "Low stock: yours")
    client.force_login(me)  # a staff user with no role at all
    page = client.get(INBOX).content.decode()
    assert "Low stock: mine" in page and mine.link in page
    assert "Low stock: yours" not in page
    assert "read already" not in page  # unread by default
    assert "read already" in client.get(INBOX + "?status=all").content.decode()
    assert (
        client.get(
            reverse("admin:admin_customisations_notification_change", args=[mine.pk])
        ).status_code
        == 200
    )
    theirs = Notification.objects.get(recipient=you)
    url = reverse("admin:admin_customisations_notification_change", args=[theirs.pk])
    assert client.get(url).status_code == 403


def test_mark_read_marks_only_my_own(client, people):
    me, you = people
    part = PartFactory()
    mine, theirs = note(me, part), note(you, part)
    client.force_login(me)
    response = client.post(
        INBOX, {"action": "mark_read", "_selected_action": [mine.pk, theirs.pk], "index": "0"}
    )
    assert response.status_code == 302
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.read_at is not None and theirs.read_at is None
    # a forged selection of only someone else's notification changes nothing
    client.post(INBOX, {"action": "mark_read", "_selected_action": [theirs.pk], "index": "0"})
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_mark_all_read_needs_a_post_and_touches_only_mine(client, people):
    me, you = people
    part = PartFactory()
    for _ in range(3):
        note(me, part, is_open=False)
    theirs = note(you, part)
    client.force_login(me)
    url = reverse("admin:admin_customisations_notification_mark_all_read")
    assert client.get(url).status_code == 200  # the confirmation dialog
    assert unread_count(me) == 3
    response = client.post(url, {"_form_submitted": "on"}, HTTP_HX_REQUEST="true")
    assert response["HX-Redirect"] == INBOX
    assert unread_count(me) == 0
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_email_settings(client, people):
    me, _ = people
    client.force_login(me)
    url = reverse("admin:admin_customisations_notification_email_settings")
    assert client.get(url).status_code == 200
    pending = note(me, PartFactory(), email_pending=True)
    client.post(url, {"_form_submitted": "on"})  # the switch off
    assert NotificationPreference.objects.get(user=me).email is False
    pending.refresh_from_db()
    assert pending.email_pending is False
    client.post(url, {"_form_submitted": "on", "email": "on"})
    assert NotificationPreference.objects.get(user=me).email is True


def test_nobody_adds_changes_or_deletes_notifications(client, people):
    me, _ = people
    mine = note(me, PartFactory())
    client.force_login(me)
    assert client.get(reverse("admin:admin_customisations_notification_add")).status_code == 403
    delete = reverse("admin:admin_customisations_notification_delete", args=[mine.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert Notification.objects.filter(pk=mine.pk).exists()


def sidebar_entry(page: str) -> str:
    start = page.index(f'href="{INBOX}"')
    return page[start : page.index("</a>", start)]


def test_the_sidebar_badge_shows_the_unread_count(client, people):
    me, _ = people
    part = PartFactory()
    client.force_login(me)
    entry = sidebar_entry(client.get(reverse("admin:index")).content.decode())
    assert "Notifications" in entry and '<span class="font-semibold' not in entry  # no badge
    for _ in range(2):
        note(me, part, is_open=False)
    entry = sidebar_entry(client.get(reverse("admin:index")).content.decode())
    assert re.search(r"<span class=\"font-semibold[^>]*>\s*2\s*</span>", entry)


def test_selectors_for_the_dashboard(people, django_assert_num_queries):
    me, you = people
    part = PartFactory()
    made = [note(me, part, f"n{i}", is_open=False) for i in range(5)]
    note(you, part)
    Notification.objects.filter(pk=made[0].pk).update(read_at="2026-01-01T00:00Z")
    with django_assert_num_queries(1):
        assert unread_count(me) == 4
    with django_assert_num_queries(1):
        newest = unread_notifications(me, limit=3)
    assert [n.title for n in newest] == ["n4", "n3", "n2"]


def test_the_inbox_renders_in_a_bounded_number_of_queries(
    client, people, django_assert_max_num_queries
):
    me, _ = people
    part = PartFactory()
    for i in range(40):
        note(me, part, f"n{i}", is_open=False)
    client.force_login(me)
    with django_assert_max_num_queries(15):
        assert client.get(INBOX).status_code == 200


def test_the_badge_costs_no_query_of_its_own(client, people):
    """The count is loaded with request.user (notifications/auth.py), not by a query per page."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    me, _ = people
    note(me, PartFactory(), is_open=False)
    client.force_login(me)
    with CaptureQueriesContext(connection) as queries:
        page = client.get(reverse("admin:index")).content.decode()
    assert re.search(r"<span class=\"font-semibold[^>]*>\s*1\s*</span>", sidebar_entry(page))
    touching = [q["sql"] for q in queries if "admin_customisations_notification" in q["sql"]]
    with_user = [sql for sql in touching if '"auth_user"' in sql]
    assert len(with_user) == 1
    # the only other read is the dashboard's "My work" list of the newest five (no COUNT)
    others = [sql for sql in touching if sql not in with_user]
    assert len(others) == 1 and others[0].endswith("LIMIT 5") and "COUNT" not in others[0]
