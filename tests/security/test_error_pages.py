"""403/404/500 pages in the admin's look with a way back; a 403 logs one line, no traceback."""

import logging

import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from django.shortcuts import resolve_url
from django.test import Client
from django.urls import get_resolver, path

import config.urls
from admin_customisations import errors
from fixtures.accounts import ensure_demo_accounts

pytestmark = pytest.mark.django_db


def boom(request):
    raise RuntimeError("the database caught fire")


# used by the 500 test: the project's routes plus one view that fails
urlpatterns = [*config.urls.urlpatterns, path("boom/", boom)]
handler403 = config.urls.handler403
handler404 = config.urls.handler404
handler500 = config.urls.handler500


@pytest.fixture
def demo():
    ensure_demo_accounts()
    return {u.username: u for u in User.objects.all()}


def login(client, user):
    client.force_login(user)
    return client


def test_the_project_routes_errors_to_the_styled_views():
    resolver = get_resolver()
    assert resolver.resolve_error_handler(403) is errors.permission_denied
    assert resolver.resolve_error_handler(404) is errors.page_not_found
    assert resolver.resolve_error_handler(500) is errors.server_error


def test_a_refused_admin_page_is_the_styled_403(client, demo):
    login(client, demo["reader"])  # readers may view parts, not add them
    response = client.get(
        "/admin/inventory/part/add/", HTTP_REFERER="http://testserver/admin/inventory/part/"
    )
    assert response.status_code == 403
    page = response.content.decode()
    assert 'data-status="403"' in page
    assert "Permission denied" in page
    assert "You do not have permission" in page
    assert 'href="/admin/"' in page  # admin home
    assert 'href="http://testserver/admin/inventory/part/"' in page  # back where they came from
    assert "unfold/css/styles.css" in page
    assert 'id="nav-sidebar"' in page  # the admin frame for staff


def test_the_back_link_never_points_off_site(client, demo):
    login(client, demo["reader"])
    response = client.get("/admin/inventory/part/add/", HTTP_REFERER="https://evil.example/x")
    assert response.status_code == 403
    page = response.content.decode()
    assert "evil.example" not in page
    assert "Back to the previous page" not in page


def test_a_permission_denied_is_logged_without_a_traceback(client, demo, caplog):
    login(client, demo["reader"])
    with caplog.at_level(logging.WARNING, logger="django.request"):
        assert client.get("/admin/inventory/part/add/").status_code == 403
    records = [r for r in caplog.records if r.getMessage().startswith("Forbidden")]
    assert records, caplog.text
    assert all(r.exc_info is None for r in records)
    assert "Traceback" not in caplog.text


def test_an_unknown_address_is_the_styled_404(client, demo):
    login(client, demo["engineer"])
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    page = response.content.decode()
    assert 'data-status="404"' in page
    assert "Page not found" in page
    assert 'href="/admin/"' in page


def test_the_404_for_someone_not_logged_in_uses_the_login_layout(client):
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    page = response.content.decode()
    assert 'data-status="404"' in page
    assert "Page not found" in page
    assert "unfold/css/styles.css" in page
    assert 'id="nav-sidebar"' not in page


@pytest.mark.urls(__name__)
def test_a_crash_is_the_styled_500_without_details(demo):
    client = Client(raise_request_exception=False)
    login(client, demo["reader"])
    response = client.get("/boom/")
    assert response.status_code == 500
    page = response.content.decode()
    assert 'data-status="500"' in page
    assert "Server error" in page
    assert "caught fire" not in page
    assert 'href="/admin/"' in page


@pytest.mark.urls(__name__)
def test_the_500_page_survives_a_broken_admin_context(demo, monkeypatch):
    def broken(request):
        raise RuntimeError("no database")

    monkeypatch.setattr(admin.site, "each_context", broken)
    client = Client(raise_request_exception=False)
    response = client.get("/boom/")
    assert response.status_code == 500
    assert "Server error" in response.content.decode()


def test_a_login_with_an_off_site_next_lands_on_the_admin_index(client, demo):
    response = client.post(
        "/admin/login/?next=https://evil.example/",
        {"username": "reader", "password": "readonly", "next": "https://evil.example/"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/admin/"


def test_the_login_redirect_is_the_admin_index_not_accounts_profile(settings):
    """Django's fallback when ``next`` is missing or unsafe; its default is /accounts/profile/,
    which does not exist here."""
    assert resolve_url(settings.LOGIN_REDIRECT_URL) == "/admin/"
