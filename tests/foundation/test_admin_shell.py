"""The unfold admin shell: login page, redirect, title, environment badge, sidebar."""

import pytest
from django.contrib.auth.models import User

from tests.factories import PurchaseOrderFactory

pytestmark = pytest.mark.django_db


def test_root_redirects_to_the_admin(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/admin/"


def test_login_page_is_unfold_and_titled_stockroom(client):
    response = client.get("/admin/login/")
    content = response.content.decode()
    assert response.status_code == 200
    assert "Stockroom" in content
    assert "unfold" in content  # unfold's stylesheet/scripts, not the stock admin


def test_index_shows_environment_badge_and_sidebar_groups(admin_client_root):
    content = admin_client_root.get("/admin/").content.decode()
    assert "Demo" in content
    assert "Jobs" in content
    assert "/admin/admin_customisations/backgroundjob/" in content
    assert "Users &amp; roles" in content


def test_sidebar_hides_models_the_user_cannot_view(client):
    user = User.objects.create_user("staffer", password="pw-staff-123", is_staff=True)
    client.force_login(user)
    content = client.get("/admin/").content.decode()
    assert "/admin/django_celery_beat/periodictask/" not in content
    # every staff member may follow their own background jobs (docs/bulk-actions.md)
    assert "/admin/admin_customisations/backgroundjob/" in content
    assert "/admin/auth/user/" not in content


@pytest.mark.parametrize(
    "url",
    [
        "/admin/orders/purchaseorder/{pk}/delete/",  # date filters' calendar.js, actions.js
        "/admin/orders/purchaseorder/{pk}/place/",  # an action form with a date widget
        "/admin/orders/purchaseorder/",
    ],
)
def test_the_javascript_catalog_loads_before_the_admin_scripts(admin_client_root, url):
    """calendar.js, DateTimeShortcuts.js and actions.js call gettext()/ngettext(): every page
    showing a model admin's media loads Django's catalog (admin:jsi18n) first, once per page
    whatever else the page's template adds (StockroomModelAdmin.media)."""
    order = PurchaseOrderFactory()
    content = admin_client_root.get(url.format(pk=order.pk)).content.decode()
    catalog = content.find('src="/admin/jsi18n/"')
    assert catalog != -1, "no JavaScript catalog on the page"
    for script in ("admin/js/calendar.js", "admin/js/actions.js", "admin/js/core.js"):
        if script in content:
            assert catalog < content.index(script), f"{script} loads before the catalog"
