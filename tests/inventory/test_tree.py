"""The category/location tree: paths, moves, validation, deletion (R4, R8, R9)."""

import pytest
from django.core.exceptions import ValidationError

from inventory.choices import StockHistoryCode as H
from inventory.models import Part, PartCategory, StockItem, StockLocation
from inventory.models.tree import PATHSTRING_MAX
from inventory.services.parts import part_category_delete
from inventory.services.stock import stock_location_delete
from tests.factories import (
    PartCategoryFactory,
    PartFactory,
    StockItemFactory,
    StockLocationFactory,
)
from tests.inventory.conftest import entries, last_history, reload

pytestmark = pytest.mark.django_db

TREES = [PartCategory, StockLocation]


def make_chain(model, *names, parent=None):
    """Nodes named ``names``, each the child of the previous one."""
    nodes = []
    for name in names:
        parent = model.objects.create(name=name, parent=parent)
        nodes.append(parent)
    return nodes


def error_text(excinfo) -> str:
    return " ".join(excinfo.value.messages)


@pytest.mark.parametrize("model", TREES)
def test_paths_are_built_on_create(model):
    a, b, c = make_chain(model, "A", "B", "C")

    assert [n.pathstring for n in (a, b, c)] == ["A", "A/B", "A/B/C"]
    assert [n.level for n in (a, b, c)] == [0, 1, 2]
    assert a.tree_path == f"/{a.pk}/"
    assert c.tree_path == f"/{a.pk}/{b.pk}/{c.pk}/"
    stored = model.objects.get(pk=c.pk)
    assert (stored.pathstring, stored.tree_path, stored.level) == (c.pathstring, c.tree_path, 2)
    assert str(stored) == "A/B/C"


@pytest.mark.parametrize("model", TREES)
def test_creating_a_node_writes_one_history_record(model):
    (a,) = make_chain(model, "A")

    assert list(a.history.values_list("history_type", "name")) == [("+", "A")]


@pytest.mark.parametrize("model", TREES)
def test_rename_rewrites_pathstring_of_whole_subtree(model):
    a, b, c = make_chain(model, "A", "B", "C")
    (other,) = make_chain(model, "Other")
    tree_paths = {n.pk: n.tree_path for n in (a, b, c)}

    a.name = "Alpha"
    a.save()

    fresh = {n.pk: n for n in model.objects.all()}
    assert fresh[a.pk].pathstring == "Alpha"
    assert fresh[b.pk].pathstring == "Alpha/B"
    assert fresh[c.pk].pathstring == "Alpha/B/C"
    assert fresh[other.pk].pathstring == "Other"
    assert {pk: fresh[pk].tree_path for pk in tree_paths} == tree_paths  # ids did not change


@pytest.mark.parametrize("model", TREES)
def test_rename_with_update_fields_keeps_own_pathstring(model):
    a, b = make_chain(model, "A", "B")

    a.name = "Alpha"
    a.save(update_fields=["name"])

    assert model.objects.get(pk=a.pk).pathstring == "Alpha"
    assert model.objects.get(pk=b.pk).pathstring == "Alpha/B"


@pytest.mark.parametrize("model", TREES)
def test_move_rewrites_paths_and_levels_of_whole_subtree(model):
    a, b, c, d = make_chain(model, "A", "B", "C", "D")
    x, y = make_chain(model, "X", "Y")

    b.parent = y
    b.full_clean()
    b.save()

    b, c, d, a = (model.objects.get(pk=n.pk) for n in (b, c, d, a))
    assert [n.pathstring for n in (b, c, d)] == ["X/Y/B", "X/Y/B/C", "X/Y/B/C/D"]
    assert [n.level for n in (b, c, d)] == [2, 3, 4]
    assert d.tree_path == f"/{x.pk}/{y.pk}/{b.pk}/{c.pk}/{d.pk}/"
    assert a.pathstring == "A"
    assert list(a.subtree()) == [a]


@pytest.mark.parametrize("model", TREES)
def test_paths_come_from_the_stored_parent_not_a_stale_copy(model):
    a, b = make_chain(model, "A", "B")  # ``b`` in memory keeps pathstring "A/B"
    fresh_a = model.objects.get(pk=a.pk)
    fresh_a.name = "Alpha"
    fresh_a.save()

    c = model.objects.create(name="C", parent=b)

    assert model.objects.get(pk=c.pk).pathstring == "Alpha/B/C"


@pytest.mark.parametrize("model", TREES)
def test_move_to_top_level(model):
    a, b, c = make_chain(model, "A", "B", "C")

    b.parent = None
    b.save()

    b, c = model.objects.get(pk=b.pk), model.objects.get(pk=c.pk)
    assert (b.pathstring, b.level, b.tree_path) == ("B", 0, f"/{b.pk}/")
    assert (c.pathstring, c.level, c.tree_path) == ("B/C", 1, f"/{b.pk}/{c.pk}/")


@pytest.mark.parametrize("model", TREES)
def test_subtree_is_one_query_and_respects_id_boundaries(model, django_assert_num_queries):
    # ids 7001 and 70010: "/7001/" must not match "/70010/" by prefix
    a = model.objects.create(pk=7001, name="A")
    b = model.objects.create(pk=7002, name="B", parent=a)
    c = model.objects.create(pk=7003, name="C", parent=b)
    model.objects.create(pk=70010, name="Lookalike")
    model.objects.create(pk=70011, name="Below lookalike", parent=model.objects.get(pk=70010))

    with django_assert_num_queries(1):
        assert sorted(n.pk for n in a.subtree()) == [a.pk, b.pk, c.pk]
    with django_assert_num_queries(1):
        assert sorted(n.pk for n in b.subtree()) == [b.pk, c.pk]
    assert list(c.subtree()) == [c]


@pytest.mark.parametrize("model", TREES)
def test_ancestors_in_order_in_one_query(model, django_assert_num_queries):
    a, b, c, d = make_chain(model, "A", "B", "C", "D")

    with django_assert_num_queries(1):
        assert d.ancestors() == [a, b, c]
    assert b.ancestors() == [a]
    assert a.ancestors() == []


@pytest.mark.parametrize("model", TREES)
def test_cannot_be_own_parent(model):
    a, b = make_chain(model, "A", "B")

    b.parent = b
    with pytest.raises(ValidationError) as excinfo:
        b.full_clean()
    assert excinfo.value.message_dict["parent"] == ["An entry cannot be its own parent."]


@pytest.mark.parametrize("model", TREES)
def test_cannot_move_below_own_descendant(model):
    a, b, c = make_chain(model, "A", "B", "C")

    for descendant in (b, c):
        a.parent = descendant
        with pytest.raises(ValidationError) as excinfo:
            a.full_clean()
        assert excinfo.value.message_dict["parent"] == [
            "An entry cannot be moved below one of its own children."
        ]
    assert model.objects.get(pk=a.pk).parent_id is None


@pytest.mark.parametrize("model", TREES)
def test_sibling_names_are_unique_ignoring_case(model):
    a, b = make_chain(model, "A", "Resistors")
    (other,) = make_chain(model, "Other")

    duplicate = model(name="RESISTORS", parent=a)
    with pytest.raises(ValidationError) as excinfo:
        duplicate.full_clean()
    assert error_text(excinfo) == "A sibling with this name already exists."

    model(name="resistors", parent=other).full_clean()  # same name elsewhere: fine
    b.name = "resistors"
    b.full_clean()  # a node does not clash with itself


@pytest.mark.parametrize("model", TREES)
def test_top_level_names_are_unique_ignoring_case(model):
    make_chain(model, "Warehouse")

    with pytest.raises(ValidationError) as excinfo:
        model(name="wAREHOUSE").full_clean()
    assert error_text(excinfo) == "A top-level entry with this name already exists."

    (a,) = make_chain(model, "A")
    model(name="warehouse", parent=a).full_clean()  # below another node: fine


@pytest.mark.parametrize("model", TREES)
def test_moving_next_to_a_same_named_sibling_is_refused(model):
    a, b = make_chain(model, "A", "Shared")
    (other,) = make_chain(model, "Other")
    moving = model.objects.create(name="SHARED", parent=other)

    moving.parent = a
    with pytest.raises(ValidationError, match="A sibling with this name already exists."):
        moving.full_clean()


@pytest.mark.parametrize("model", TREES)
def test_names_cannot_contain_the_path_separator(model):
    with pytest.raises(ValidationError) as excinfo:
        model(name="Passives/Resistors").full_clean()
    assert "cannot contain '/'" in excinfo.value.message_dict["name"][0]


@pytest.mark.parametrize("model", TREES)
def test_pathstring_is_clipped_keeping_the_tail(model):
    names = [c * 100 for c in "abc"]
    a, b, c = make_chain(model, *names)

    assert len(b.pathstring) == 201
    assert len(c.pathstring) == PATHSTRING_MAX
    assert c.pathstring.startswith("…")
    assert c.pathstring.endswith("/" + "c" * 100)
    assert model.objects.get(pk=c.pk).pathstring == c.pathstring
    # and on a rename of the root, the clipped descendant is recomputed too
    a.name = "short"
    a.save()
    assert model.objects.get(pk=c.pk).pathstring == "short/" + "b" * 100 + "/" + "c" * 100


def test_structural_category_refuses_parts():
    structural = PartCategoryFactory(structural=True)

    with pytest.raises(ValidationError) as excinfo:
        Part(name="Loose part", category=structural).full_clean()
    assert "structural" in excinfo.value.message_dict["category"][0]

    child = PartCategoryFactory(parent=structural)
    Part(name="Placed part", category=child).full_clean()


def test_category_with_direct_parts_cannot_become_structural():
    category = PartCategoryFactory()
    PartFactory(category=category)

    category.structural = True
    with pytest.raises(ValidationError) as excinfo:
        category.full_clean()
    assert excinfo.value.message_dict["structural"] == [
        "Cannot be made structural while parts are assigned to it directly."
    ]


def test_category_with_parts_only_below_can_become_structural():
    category = PartCategoryFactory()
    PartFactory(category=PartCategoryFactory(parent=category))

    category.structural = True
    category.full_clean()


def test_structural_location_refuses_stock():
    structural = StockLocationFactory(structural=True)
    part = PartFactory()

    with pytest.raises(ValidationError) as excinfo:
        StockItem(part=part, location=structural, quantity=1).full_clean()
    assert "structural" in excinfo.value.message_dict["location"][0]

    StockItem(part=part, location=StockLocationFactory(parent=structural), quantity=1).full_clean()


def test_location_with_direct_items_cannot_become_structural():
    location = StockLocationFactory()
    StockItemFactory(location=location)

    location.structural = True
    with pytest.raises(ValidationError) as excinfo:
        location.full_clean()
    assert excinfo.value.message_dict["structural"] == [
        "Cannot be made structural while stock items are stored in it directly."
    ]

    sub = StockLocationFactory()
    StockItemFactory(location=StockLocationFactory(parent=sub))
    sub.structural = True
    sub.full_clean()


# --- deletion moves children and members up (R8) -----------------------------------------


def test_category_delete_moves_children_and_parts_to_parent(user):
    a, b, c, d = make_chain(PartCategory, "A", "B", "C", "D")
    part_in_b = PartFactory(category=b)
    part_in_c = PartFactory(category=c)

    part_category_delete(category=b, user=user)

    assert not PartCategory.objects.filter(pk=b.pk).exists()
    c, d = reload(c), reload(d)
    assert (c.parent_id, c.pathstring, c.level) == (a.pk, "A/C", 1)
    assert (d.pathstring, d.tree_path, d.level) == ("A/C/D", f"/{a.pk}/{c.pk}/{d.pk}/", 2)
    assert reload(part_in_b).category_id == a.pk
    assert reload(part_in_c).category_id == c.pk

    child_record = last_history(PartCategory, c.pk)
    assert (child_record.history_user, child_record.history_change_reason) == (
        user,
        "Parent category B deleted",
    )
    part_record = last_history(Part, part_in_b.pk)
    assert (part_record.history_user, part_record.history_change_reason) == (
        user,
        "Category B deleted",
    )
    deleted = last_history(PartCategory, b.pk)
    assert (deleted.history_type, deleted.name, deleted.history_user) == ("-", "B", user)
    assert Part.history.filter(id=part_in_c.pk).count() == 1  # untouched


def test_deleting_a_top_level_category_makes_children_top_level(user):
    a, b, c = make_chain(PartCategory, "A", "B", "C")
    part = PartFactory(category=a)

    part_category_delete(category=a, user=user)

    b, c = reload(b), reload(c)
    assert (b.parent_id, b.pathstring, b.level, b.tree_path) == (None, "B", 0, f"/{b.pk}/")
    assert c.pathstring == "B/C"
    assert reload(part).category_id is None


def test_category_delete_with_a_child_named_like_itself(user):
    (tools,) = make_chain(PartCategory, "Tools")
    inner = PartCategory.objects.create(name="tools", parent=tools)

    part_category_delete(category=tools, user=user)

    inner = reload(inner)
    assert (inner.parent_id, inner.pathstring) == (None, "tools")
    assert last_history(PartCategory, tools.pk).name == "Tools"


def test_category_delete_refused_when_a_child_would_clash(user, refused):
    a, b = make_chain(PartCategory, "A", "B")
    PartCategory.objects.create(name="Shared", parent=a)
    PartCategory.objects.create(name="SHARED", parent=b)

    with refused("SHARED would move to 'A', which already has an entry with that name"):
        part_category_delete(category=b, user=user)


def test_category_delete_refused_when_parts_would_land_in_structural_parent(user, refused):
    parent = PartCategoryFactory(name="Structural")
    child = PartCategoryFactory(name="Leaf", parent=parent)
    PartFactory(category=child)
    parent.structural = True
    parent.save()

    with refused("would move to 'Structural', which is structural"):
        part_category_delete(category=child, user=user)

    # without parts directly inside, it can go
    Part.objects.filter(category=child).delete()
    part_category_delete(category=child, user=user)
    assert not PartCategory.objects.filter(pk=child.pk).exists()


def test_location_delete_moves_children_and_items_to_parent(user):
    a, b, c = make_chain(StockLocation, "Warehouse", "Aisle", "Shelf")
    item_in_b = StockItemFactory(location=b)
    item_in_c = StockItemFactory(location=c)

    stock_location_delete(location=b, user=user)

    assert not StockLocation.objects.filter(pk=b.pk).exists()
    c = reload(c)
    assert (c.parent_id, c.pathstring, c.level) == (a.pk, "Warehouse/Shelf", 1)
    assert reload(item_in_b).location_id == a.pk
    assert reload(item_in_c).location_id == c.pk

    (move,) = entries(item_in_b, H.STOCK_MOVE)
    assert move.user == user
    assert move.deltas == {"location": a.pk, "location_path": "Warehouse"}
    assert move.notes == "Location Warehouse/Aisle deleted"
    assert entries(item_in_c, H.STOCK_MOVE) == []

    record = last_history(StockItem, item_in_b.pk)
    assert (record.history_user, record.history_change_reason, record.location_id) == (
        user,
        "Location Aisle deleted",
        a.pk,
    )
    child_record = last_history(StockLocation, c.pk)
    assert (child_record.history_user, child_record.history_change_reason) == (
        user,
        "Parent location Aisle deleted",
    )
    deleted = last_history(StockLocation, b.pk)
    assert (deleted.history_type, deleted.history_user) == ("-", user)


def test_deleting_a_top_level_location_leaves_items_without_location(user):
    a, b = make_chain(StockLocation, "Warehouse", "Aisle")
    item = StockItemFactory(location=a)

    stock_location_delete(location=a, user=user)

    assert reload(item).location_id is None
    (move,) = entries(item, H.STOCK_MOVE)
    assert move.deltas == {"location": None}
    b = reload(b)
    assert (b.parent_id, b.pathstring, b.level) == (None, "Aisle", 0)


def test_location_delete_refused_when_items_would_land_in_structural_parent(user, refused):
    parent = StockLocationFactory(name="Building")
    child = StockLocationFactory(name="Room", parent=parent)
    StockItemFactory(location=child)
    StockLocation.objects.filter(pk=parent.pk).update(structural=True)

    with refused("stock items would move to 'Building', which is structural"):
        stock_location_delete(location=child, user=user)


def test_location_delete_refused_when_a_child_would_clash(user, refused):
    (a,) = make_chain(StockLocation, "Top")
    make_chain(StockLocation, "Bin")
    StockLocation.objects.create(name="bin", parent=a)

    with refused("bin would move to the top level"):
        stock_location_delete(location=a, user=user)
