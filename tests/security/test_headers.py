"""Security headers on admin pages: Content-Security-Policy, Permissions-Policy and friends."""

import pytest
from django.contrib.auth.models import User

from fixtures.accounts import ensure_demo_accounts

pytestmark = pytest.mark.django_db


def directives(header: str) -> dict[str, list[str]]:
    parts = (part.strip().split() for part in header.split(";") if part.strip())
    return {name: values for name, *values in parts}


@pytest.fixture
def staff_client(client):
    ensure_demo_accounts()
    client.force_login(User.objects.get(username="reader"))
    return client


@pytest.mark.parametrize("url", ["/admin/", "/admin/inventory/part/", "/admin/inventory/part/add/"])
def test_admin_pages_send_the_security_headers(staff_client, url):
    response = staff_client.get(url)  # reader: 200 for lists, the 403 page for add
    assert response.status_code in {200, 403}
    csp = directives(response["Content-Security-Policy"])
    assert csp["default-src"] == ["'self'"]
    # unfold: Alpine's standard build needs eval, inline <style>/style attributes
    assert set(csp["script-src"]) == {"'self'", "'unsafe-inline'", "'unsafe-eval'"}
    assert set(csp["style-src"]) == {"'self'", "'unsafe-inline'"}
    assert csp["object-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["form-action"] == ["'self'"]
    assert csp["base-uri"] == ["'self'"]
    assert csp["connect-src"] == ["'self'"]
    policy = response["Permissions-Policy"]
    for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()", "usb=()"):
        assert feature in policy
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_the_login_page_sends_the_headers_too(client):
    response = client.get("/admin/login/")
    assert response.status_code == 200
    assert "script-src" in response["Content-Security-Policy"]
    assert "camera=()" in response["Permissions-Policy"]


def test_admin_pages_load_no_third_party_resources(staff_client):
    """What the policy promises: every script, style and font the admin page names is local."""
    page = staff_client.get("/admin/inventory/part/").content.decode()
    assert "https://" not in "".join(
        line for line in page.splitlines() if "<script" in line or "<link" in line
    )
