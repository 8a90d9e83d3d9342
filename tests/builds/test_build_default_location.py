"""Default destination of builds and new stock: the part's default location, else its
category's, else the nearest ancestor category's (InvenTree's Part.get_default_location)."""

import pytest

from builds.services.build import build_order_create
from builds.services.build_outputs import build_output_complete, build_output_create
from inventory.models import PartCategory, StockItem
from inventory.services.stock import stock_item_create
from tests.factories import PartCategoryFactory, PartFactory, StockLocationFactory, UserFactory
from tests.inventory.conftest import reload

pytestmark = pytest.mark.django_db


@pytest.fixture
def user(db):
    return UserFactory(username="planner")


@pytest.fixture
def tree(db):
    """Electronics (default: Main store) / Boards (none) / Controllers (none)."""
    store = StockLocationFactory(name="Main store")
    electronics = PartCategoryFactory(name="Electronics", default_location=store)
    boards = PartCategoryFactory(name="Boards", parent=electronics)
    controllers = PartCategoryFactory(name="Controllers", parent=boards)
    return store, electronics, boards, controllers


def test_category_walks_up_to_the_nearest_ancestor_with_a_default(tree):
    store, electronics, boards, controllers = tree
    assert controllers.get_default_location() == store
    assert boards.get_default_location() == store
    assert electronics.get_default_location() == store

    bench = StockLocationFactory(name="Board bench")
    boards.default_location = bench
    boards.save()
    # the nearest one wins, the category's own before any ancestor's
    assert reload(controllers).get_default_location() == bench
    assert reload(electronics).get_default_location() == store
    own = StockLocationFactory(name="Controller shelf")
    controllers.default_location = own
    controllers.save()
    assert reload(controllers).get_default_location() == own


def test_no_default_anywhere_gives_none(db):
    top = PartCategoryFactory(name="Mechanical")
    below = PartCategoryFactory(name="Screws", parent=top)
    assert below.get_default_location() is None
    assert PartFactory(category=None).get_default_location() is None
    assert PartFactory(category=below).get_default_location() is None


def test_part_default_comes_first(tree):
    store, _, _, controllers = tree
    own = StockLocationFactory(name="Own place")
    assert PartFactory(category=controllers).get_default_location() == store
    assert PartFactory(category=controllers, default_location=own).get_default_location() == own


def test_one_query_for_the_ancestor_walk(tree, django_assert_max_num_queries):
    controllers = PartCategory.objects.get(pk=tree[3].pk)
    with django_assert_max_num_queries(1):
        assert controllers.get_default_location() == tree[0]


def test_build_destination_uses_the_ancestor_default(tree, user):
    store, _, _, controllers = tree
    assembly = PartFactory(name="Controller", assembly=True, category=controllers)
    build = build_order_create(part=assembly, quantity=2, user=user)
    assert build.destination == store
    outputs = build_output_create(build=build, quantity=2, user=user)
    assert {o.location for o in outputs} == {store}
    done = build_output_complete(build=build, output=outputs[0], user=user)
    assert reload(done).location == store


def test_a_structural_ancestor_default_is_not_a_destination(tree, user):
    store, _, _, controllers = tree
    store.structural = True
    store.save()
    assembly = PartFactory(assembly=True, category=controllers)
    assert build_order_create(part=assembly, quantity=1, user=user).destination is None


def test_output_completion_falls_back_to_the_default_location(user):
    top = PartCategoryFactory(name="Assemblies")
    below = PartCategoryFactory(name="Gateways", parent=top)
    assembly = PartFactory(assembly=True, category=below)
    build = build_order_create(part=assembly, quantity=1, user=user)
    [output] = build_output_create(build=build, quantity=1, user=user)
    assert (build.destination, output.location) == (None, None)
    dock = StockLocationFactory(name="Dock")
    top.default_location = dock
    top.save()
    done = build_output_complete(build=reload(build), output=output, user=user)
    assert reload(done).location == dock


def test_new_stock_goes_to_the_ancestor_default(tree, user):
    store, _, _, controllers = tree
    part = PartFactory(category=controllers)
    [item] = stock_item_create(part=part, quantity=5, user=user)
    assert item.location == store


def test_new_stock_in_the_admin_goes_to_the_ancestor_default(tree, admin_client_root):
    store, _, _, controllers = tree
    part = PartFactory(category=controllers)
    response = admin_client_root.post(
        "/admin/inventory/stockitem/add/",
        {
            "part": part.pk,
            "quantity": "3",
            "status": "10",
            "delete_on_deplete": "on",
            "purchase_price_currency": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert StockItem.objects.get(part=part).location == store
