"""Demo accounts exist, are staff, log in to the admin, and load_demo is idempotent."""

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from fixtures.accounts import DEMO_ACCOUNTS
from inventory.services.actors import system_usernames

pytestmark = pytest.mark.django_db


def test_load_demo_creates_the_documented_accounts():
    call_command("load_demo")
    assert User.objects.get(username="admin").is_superuser
    people = User.objects.exclude(username__in=system_usernames())
    memberships = {u.username: [g.name for g in u.groups.all()] for u in people}
    assert memberships == {
        "admin": [],
        "allaccess": ["all access"],
        "reader": ["readers"],
        "engineer": ["engineering"],
    }
    assert all(people.values_list("is_staff", flat=True))
    # the demo's own records (the groups' roles) go to the "[demo]" actor, which cannot log in
    actors = User.objects.filter(username__in=system_usernames())
    assert list(actors.values_list("username", "is_active", "is_staff")) == [
        ("[demo]", False, False)
    ]


def test_load_demo_twice_changes_nothing():
    call_command("load_demo")
    before = list(User.objects.order_by("pk").values())
    call_command("load_demo")
    assert list(User.objects.order_by("pk").values()) == before


def test_load_demo_restores_a_changed_demo_password():
    call_command("load_demo")
    reader = User.objects.get(username="reader")
    reader.set_password("something-else")
    reader.save()
    call_command("load_demo")
    reader.refresh_from_db()
    assert reader.check_password("readonly")


@pytest.mark.parametrize(("username", "password"), [(u, p) for u, p, _, _ in DEMO_ACCOUNTS])
def test_each_demo_account_logs_in_to_the_admin(client, username, password):
    call_command("load_demo")
    response = client.post(
        "/admin/login/?next=/admin/", {"username": username, "password": password}, follow=True
    )
    assert response.status_code == 200
    assert response.wsgi_request.user.username == username
    assert response.redirect_chain[-1][0] == "/admin/"


def test_wrong_password_is_refused(client):
    call_command("load_demo")
    response = client.post("/admin/login/", {"username": "reader", "password": "nope"})
    assert response.status_code == 200
    assert "Please enter the correct username and password" in response.content.decode()
