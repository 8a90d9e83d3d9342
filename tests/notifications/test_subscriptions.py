"""Subscriptions: inherited down the category tree, idempotent, and the list actions."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from inventory.models import Part, PartCategory, PartSubscription
from inventory.selectors import SubscriberMap, ancestor_paths, part_subscriber_ids
from inventory.services import subscriptions
from inventory.services.actors import system_user
from tests.factories import PartCategoryFactory, PartFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_ancestor_paths():
    assert ancestor_paths("/1/5/9/") == ["/1/", "/1/5/", "/1/5/9/"]
    assert ancestor_paths("") == []


@pytest.fixture
def tree():
    top = PartCategoryFactory(name="Electronics")
    middle = PartCategoryFactory(name="Passives", parent=top)
    leaf = PartCategoryFactory(name="Resistors", parent=middle)
    other = PartCategoryFactory(name="Mechanical")
    return top, middle, leaf, other


def test_a_category_subscription_covers_the_whole_subtree(tree, django_assert_num_queries):
    top, middle, leaf, other = tree
    resistor = PartFactory(category=leaf)
    screw = PartFactory(category=other)
    on_top, on_middle, on_part, on_other = (UserFactory() for _ in range(4))
    subscriptions.category_subscribe(user=on_top, categories=PartCategory.objects.filter(pk=top.pk))
    subscriptions.category_subscribe(
        user=on_middle, categories=PartCategory.objects.filter(pk=middle.pk)
    )
    subscriptions.part_subscribe(user=on_part, parts=Part.objects.filter(pk=resistor.pk))
    subscriptions.category_subscribe(
        user=on_other, categories=PartCategory.objects.filter(pk=other.pk)
    )
    with django_assert_num_queries(1):
        found = part_subscriber_ids(resistor)
    assert found == {on_top.pk, on_middle.pk, on_part.pk}
    assert part_subscriber_ids(screw) == {on_other.pk}
    every = SubscriberMap()  # the checks' bulk resolver agrees
    assert every.subscribers(resistor.pk, leaf.tree_path) == found
    assert every.subscribers(screw.pk, other.tree_path) == {on_other.pk}


def test_a_moved_category_takes_its_parts_to_the_new_ancestors_subscribers(tree):
    top, middle, leaf, other = tree
    resistor = PartFactory(category=leaf)
    watcher = UserFactory()
    subscriptions.category_subscribe(
        user=watcher, categories=PartCategory.objects.filter(pk=other.pk)
    )
    assert part_subscriber_ids(resistor) == set()
    middle.parent = other
    middle.save()
    resistor.refresh_from_db()
    assert part_subscriber_ids(resistor) == {watcher.pk}


def test_subscribing_is_idempotent_and_unsubscribing_removes_only_mine(tree):
    top, *_ = tree
    me, you = UserFactory(), UserFactory()
    categories = PartCategory.objects.filter(pk=top.pk)
    assert subscriptions.category_subscribe(user=me, categories=categories) == 1
    assert subscriptions.category_subscribe(user=me, categories=categories) == 0
    subscriptions.category_subscribe(user=you, categories=categories)
    assert subscriptions.category_unsubscribe(user=me, categories=categories) == 1
    assert list(PartSubscription.objects.values_list("user_id", flat=True)) == [you.pk]


def test_only_real_active_users_subscribe(tree):
    top, *_ = tree
    categories = PartCategory.objects.filter(pk=top.pk)
    for user in (system_user("scheduler"), UserFactory(is_active=False)):
        with pytest.raises(ValidationError, match="Only an active user"):
            subscriptions.category_subscribe(user=user, categories=categories)
    assert not PartSubscription.objects.exists()


def test_a_subscription_is_to_a_part_or_a_category(tree):
    from django.db import IntegrityError, transaction

    top, *_ = tree
    user = UserFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        PartSubscription.objects.create(user=user, category=top, part=PartFactory())
    with pytest.raises(IntegrityError), transaction.atomic():
        PartSubscription.objects.create(user=user)


def test_too_many_parts_at_once_is_refused(monkeypatch):
    monkeypatch.setattr(subscriptions, "MAX_PER_SUBSCRIBE", 2)
    parts = [PartFactory() for _ in range(3)]
    with pytest.raises(ValidationError, match="at most 2 parts"):
        subscriptions.part_subscribe(
            user=UserFactory(), parts=Part.objects.filter(pk__in=[p.pk for p in parts])
        )
    assert not PartSubscription.objects.exists()


def test_the_subscribe_actions_of_the_part_and_category_lists(client):
    from fixtures.accounts import ensure_demo_accounts

    ensure_demo_accounts()
    from django.contrib.auth.models import User

    reader = User.objects.get(username="reader")  # may only view parts: may still subscribe
    client.force_login(reader)
    part = PartFactory()
    response = client.post(
        reverse("admin:inventory_part_changelist"),
        {"action": "subscribe_parts", "_selected_action": [part.pk], "apply": "1"},
        follow=True,
    )
    assert response.status_code == 200
    assert "Subscribed to 1 more part" in response.content.decode()
    assert PartSubscription.objects.filter(user=reader, part=part).exists()
    client.post(
        reverse("admin:inventory_part_changelist"),
        {"action": "unsubscribe_parts", "_selected_action": [part.pk], "apply": "1"},
    )
    assert not PartSubscription.objects.filter(user=reader).exists()
    category = part.category
    client.post(
        reverse("admin:inventory_partcategory_changelist"),
        {"action": "subscribe_categories", "_selected_action": [category.pk], "apply": "1"},
    )
    assert PartSubscription.objects.filter(user=reader, category=category).exists()
