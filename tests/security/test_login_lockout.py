"""Login throttling (django-axes): per username + IP, cool-off, reset on success, admin reset."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from django.contrib.auth.models import User
from django.test import RequestFactory
from django.utils import timezone

from config.login_throttle import client_ip
from fixtures.accounts import DEMO_ACCOUNTS, ensure_demo_accounts

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/?next=/admin/"


@pytest.fixture
def demo():
    ensure_demo_accounts()


@pytest.fixture
def limit(settings):
    return settings.AXES_FAILURE_LIMIT


def post_login(client, username, password, ip="203.0.113.7"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip)


def logged_in_as(client):
    user_id = client.session.get("_auth_user_id")
    return User.objects.get(pk=user_id).username if user_id else None


def fail_times(client, n, username="reader", ip="203.0.113.7"):
    for _ in range(n):
        response = post_login(client, username, "wrong-password", ip)
    return response


def test_the_default_limit_is_five_failures(settings):
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.AXES_COOLOFF_TIME == timedelta(minutes=15)
    assert settings.AUTHENTICATION_BACKENDS[0] == "config.login_throttle.LoginThrottleBackend"


def test_after_the_limit_even_the_right_password_is_refused(client, demo, limit):
    for attempt in range(1, limit):
        response = post_login(client, "reader", "wrong-password")
        assert response.status_code == 200, attempt  # the normal "wrong password" form
    locked = post_login(client, "reader", "wrong-password")
    assert locked.status_code == 429
    response = post_login(client, "reader", "readonly")
    assert response.status_code == 429
    assert logged_in_as(client) is None
    page = response.content.decode()
    assert "Too many failed logins" in page
    assert "reader" in page
    assert "Try again in 15 minutes" in page
    assert 'href="/admin/login/"' in page
    assert "unfold/css/styles.css" in page  # the admin's look, not a bare text response
    assert AccessFailureLog.objects.filter(username="reader", locked_out=True).exists()


def test_a_success_before_the_limit_resets_the_count(client, demo, limit):
    fail_times(client, limit - 1)
    assert post_login(client, "reader", "readonly").status_code == 302
    assert logged_in_as(client) == "reader"
    assert not AccessAttempt.objects.filter(username="reader").exists()
    client.logout()
    fail_times(client, limit - 1)  # counting starts again from zero
    assert post_login(client, "reader", "readonly").status_code == 302


def test_the_lock_is_per_username_and_ip(client, demo, limit):
    fail_times(client, limit)
    # another account from the same address
    assert post_login(client, "engineer", "partsonly").status_code == 302
    assert logged_in_as(client) == "engineer"
    client.logout()
    # the same account from another address
    assert post_login(client, "reader", "readonly", ip="198.51.100.20").status_code == 302
    assert logged_in_as(client) == "reader"


def test_the_lock_ends_after_the_cool_off(client, demo, limit):
    fail_times(client, limit)
    assert post_login(client, "reader", "readonly").status_code == 429
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    assert post_login(client, "reader", "readonly").status_code == 302
    assert logged_in_as(client) == "reader"


def test_an_administrator_resets_the_lockout(client, demo, limit):
    fail_times(client, limit)
    attempt = AccessAttempt.objects.get(username="reader")
    admin_client = type(client)()
    admin_client.force_login(User.objects.get(username="admin"))
    page = admin_client.get("/admin/axes/accessattempt/")
    assert page.status_code == 200
    assert "reset_lockout" in page.content.decode()
    response = admin_client.post(
        "/admin/axes/accessattempt/",
        {"action": "reset_lockout", "_selected_action": [attempt.pk]},
        follow=True,
    )
    assert "Unlocked 1: reader from 203.0.113.7" in response.content.decode()
    assert not AccessAttempt.objects.exists()
    assert post_login(client, "reader", "readonly").status_code == 302


def test_view_only_admins_see_attempts_but_cannot_reset(client, demo, limit):
    fail_times(client, limit)
    reader = type(client)()
    reader.force_login(User.objects.get(username="allaccess"))  # admin role: view only
    page = reader.get("/admin/axes/accessattempt/")
    assert page.status_code == 200
    assert "reader" in page.content.decode()
    assert "reset_lockout" not in page.content.decode()
    attempt = AccessAttempt.objects.get(username="reader")
    reader.post(
        "/admin/axes/accessattempt/",
        {"action": "reset_lockout", "_selected_action": [attempt.pk]},
    )
    assert AccessAttempt.objects.filter(pk=attempt.pk).exists()
    assert reader.get(f"/admin/axes/accessattempt/{attempt.pk}/delete/").status_code == 403


@pytest.mark.parametrize(("username", "password"), [(u, p) for u, p, _, _ in DEMO_ACCOUNTS])
def test_demo_accounts_keep_working_in_normal_use(client, demo, username, password):
    # a typo or two, then the right password, as people do
    fail_times(client, 2, username=username)
    for _ in range(3):
        assert post_login(client, username, password).status_code == 302
        assert logged_in_as(client) == username
        client.logout()


def test_test_client_login_and_force_login_still_work(client, demo):
    assert client.login(username="reader", password="readonly")
    assert client.get("/admin/").status_code == 200
    client.logout()
    client.force_login(User.objects.get(username="engineer"))
    assert client.get("/admin/").status_code == 200


@pytest.mark.parametrize(
    ("count", "meta", "expected"),
    [
        (0, {"REMOTE_ADDR": "10.0.0.1", "HTTP_X_FORWARDED_FOR": "1.2.3.4"}, "10.0.0.1"),
        (1, {"REMOTE_ADDR": "10.0.0.1", "HTTP_X_FORWARDED_FOR": "1.2.3.4"}, "1.2.3.4"),
        # a forged left-most entry is ignored: the proxy appended the real address
        (1, {"REMOTE_ADDR": "10.0.0.1", "HTTP_X_FORWARDED_FOR": "6.6.6.6, 1.2.3.4"}, "1.2.3.4"),
        (
            2,
            {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "6.6.6.6, 1.2.3.4, 10.0.0.1"},
            "1.2.3.4",
        ),
        # fewer entries than proxies: not from our proxies, use the socket address
        (2, {"REMOTE_ADDR": "10.0.0.1", "HTTP_X_FORWARDED_FOR": "1.2.3.4"}, "10.0.0.1"),
    ],
)
def test_client_ip_behind_trusted_proxies(settings, count, meta, expected):
    settings.TRUSTED_PROXY_COUNT = count
    request = RequestFactory().get("/", **meta)
    assert client_ip(request) == expected
