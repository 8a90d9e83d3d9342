"""The named system actors (inventory/services/actors.py): real users that can never log in,
created once, and never handed out from the cache after their row is gone."""

import pytest
from django.contrib.auth.models import User
from django.db import transaction

from inventory.services import actors
from inventory.services.actors import (
    ACTORS,
    acting_as,
    actor_username,
    forget_system_users,
    is_system_user,
    system_user,
)


@pytest.fixture(autouse=True)
def _fresh_cache():
    forget_system_users()
    yield
    forget_system_users()


@pytest.mark.django_db
def test_system_actors_are_inactive_unusable_and_created_once():
    users = {name: system_user(name) for name in ACTORS}
    assert system_user("scheduler").pk == users["scheduler"].pk
    assert User.objects.filter(username=actor_username("scheduler")).count() == 1
    for name, user in users.items():
        user.refresh_from_db()
        assert user.username == f"[{name}]" and is_system_user(user)
        assert not user.is_active and not user.is_staff and not user.is_superuser
        assert not user.has_usable_password() and not user.groups.exists()
    assert not is_system_user(User.objects.create_user("scheduler"))
    with pytest.raises(ValueError, match="Unknown system actor"):
        system_user("nobody")


@pytest.mark.django_db
def test_a_system_actor_cannot_log_in(client):
    user = system_user("scheduler")
    response = client.post("/admin/login/", {"username": user.username, "password": ""})
    assert response.status_code == 200  # the form again, not a redirect into the admin
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_acting_as_fills_only_what_is_missing():
    from inventory.models import PartCategory
    from inventory.services.common import save_with_history

    person = User.objects.create_user("alice")
    with acting_as("scheduler", reason="Scheduled task: nightly check"):
        plain = PartCategory.objects.create(name="Plain")
        own = PartCategory(name="Own")
        save_with_history(own, user=person, reason="Created by Alice")
    plain_record, own_record = plain.history.get(), own.history.get()
    assert (plain_record.history_user.username, plain_record.history_change_reason) == (
        "[scheduler]",
        "Scheduled task: nightly check",
    )
    assert (own_record.history_user, own_record.history_change_reason) == (
        person,
        "Created by Alice",
    )
    outside = PartCategory.objects.create(name="Outside")  # no actor acting: left as it is
    assert outside.history.get().history_user is None


@pytest.mark.django_db(transaction=True)
def test_the_cache_keeps_only_committed_rows_and_forgets_deleted_ones():
    with pytest.raises(RuntimeError), transaction.atomic():
        system_user("system")  # created inside a transaction that is rolled back
        raise RuntimeError
    assert not actors._cache
    assert not User.objects.filter(username="[system]").exists()

    with transaction.atomic():
        created = system_user("system")
        assert not actors._cache  # not cached before the commit
    assert actors._cache == {("default", "system"): created}

    created.delete()  # e.g. an administrator removed it: the cache must not hand it out
    assert not actors._cache
    again = system_user("system")
    assert again.pk != created.pk and User.objects.filter(pk=again.pk).exists()
