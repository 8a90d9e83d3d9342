"""Undelete: a deleted part, category, location, company or parameter template comes back from
its history with the same id and natural key, through the model's validation; a taken key or
a missing parent refuses with a message and changes nothing; only who may add may restore."""

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from guardian.shortcuts import assign_perm

from admin_customisations.history.undelete import (
    plan_undelete,
    undelete_object,
    undelete_url,
)
from fixtures.accounts import ensure_demo_accounts
from inventory.models import Part, PartCategory, PartParameterTemplate, StockItem, StockLocation
from inventory.services.common import delete_with_history, save_with_history
from inventory.services.parts import part_category_delete
from inventory.services.stock import stock_location_delete
from orders.models import Company
from tests import factories
from tests.security.admin_urls import snapshot

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo():
    ensure_demo_accounts()
    return {u.username: u for u in User.objects.all()}


@pytest.fixture
def root(db):
    return User.objects.create_superuser("root", "root@example.com", "pw-root-123")


def url(model, pk):
    return undelete_url(model, pk)


def messages_of(response):
    return [str(m) for m in response.context["messages"]]


def latest(model, pk):
    return model.history.filter(id=pk).order_by("-history_id").first()


# --- each model comes back ----------------------------------------------------------------


def test_a_part_comes_back_with_its_id_key_and_values(root):
    category = factories.PartCategoryFactory(name="Resistors")
    part = factories.PartFactory(
        name="10k", ipn="R-001", revision="B", category=category, description="thin film"
    )
    part.refresh_from_db()
    pk, created_at = part.pk, part.created_at
    delete_with_history(part, user=root, reason="Deleted")

    restored = undelete_object(model=Part, object_id=pk, user=root)

    restored = Part.objects.get(pk=pk)
    assert (restored.name, restored.ipn, restored.revision) == ("10k", "R-001", "B")
    assert (restored.category, restored.description) == (category, "thin film")
    assert restored.created_at == created_at  # not the restore time
    record = latest(Part, pk)
    assert record.history_type == "+"
    assert record.history_user == root
    assert record.history_change_reason.startswith("Restored after deletion of ")
    assert record.history_change_reason.endswith("(deleted by root)")


def test_a_category_comes_back_under_its_parent_with_its_paths(root):
    top = factories.PartCategoryFactory(name="Electronics")
    middle = factories.PartCategoryFactory(name="Passives", parent=top)
    pk = middle.pk
    part_category_delete(category=middle, user=root)

    undelete_object(model=PartCategory, object_id=pk, user=root)

    restored = PartCategory.objects.get(pk=pk)
    assert restored.parent == top
    assert restored.pathstring == "Electronics/Passives"
    assert restored.tree_path == f"{top.tree_path}{pk}/"
    assert restored.level == 1
    assert restored.name == "Passives"  # not the "/deleted/<id>" it was set aside as
    assert latest(PartCategory, pk).history_user == root


def test_a_location_comes_back_with_its_paths(root):
    top = factories.StockLocationFactory(name="Warehouse")
    shelf = factories.StockLocationFactory(name="Shelf B", parent=top, external=True)
    pk = shelf.pk
    stock_location_delete(location=shelf, user=root)

    undelete_object(model=StockLocation, object_id=pk, user=root)

    restored = StockLocation.objects.get(pk=pk)
    assert (restored.pathstring, restored.level, restored.external) == (
        "Warehouse/Shelf B",
        1,
        True,
    )
    assert restored.tree_path == f"{top.tree_path}{pk}/"
    record = latest(StockLocation, pk)
    assert (record.history_type, record.history_user) == ("+", root)


def test_a_company_comes_back(root):
    company = factories.CompanyFactory(name="Acme GmbH", email="info@acme.example")
    pk = company.pk
    delete_with_history(company, user=root, reason="Deleted")

    undelete_object(model=Company, object_id=pk, user=root)

    restored = Company.objects.get(pk=pk)
    assert (restored.name, restored.email, restored.is_customer) == (
        "Acme GmbH",
        "info@acme.example",
        True,
    )
    assert latest(Company, pk).history_change_reason.startswith("Restored after deletion")


def test_a_parameter_template_comes_back(root):
    template = factories.PartParameterTemplateFactory(name="Resistance", units="Ω")
    pk = template.pk
    delete_with_history(template, user=root, reason="Deleted")

    undelete_object(model=PartParameterTemplate, object_id=pk, user=root)

    restored = PartParameterTemplate.objects.get(pk=pk)
    assert (restored.name, restored.units) == ("Resistance", "Ω")
    assert latest(PartParameterTemplate, pk).history_user == root


# --- refusals -------------------------------------------------------------------------------


def test_a_taken_ipn_refuses_and_names_the_other_part(root):
    part = factories.PartFactory(name="10k", ipn="R-001")
    pk = part.pk
    delete_with_history(part, user=root, reason="Deleted")
    other = factories.PartFactory(name="Another", ipn="r-001")  # same IPN, other case
    before = snapshot()

    plan = plan_undelete(model=Part, object_id=pk, user=root)
    assert not plan.ok
    assert plan.problems[0].obj == other
    with pytest.raises(ValidationError) as refused:
        undelete_object(model=Part, object_id=pk, user=root)

    assert refused.value.messages == [f"A part with IPN R-001 exists: {other}; rename it first."]
    assert snapshot() == before
    assert not Part.objects.filter(pk=pk).exists()


@pytest.mark.parametrize("make", [factories.CompanyFactory, factories.PartParameterTemplateFactory])
def test_a_taken_name_refuses(root, make):
    obj = make(name="Acme")
    model, pk = type(obj), obj.pk
    delete_with_history(obj, user=root, reason="Deleted")
    make(name="ACME")
    before = snapshot()
    with pytest.raises(ValidationError, match="named 'ACME' exists: .*; rename it first"):
        undelete_object(model=model, object_id=pk, user=root)
    assert snapshot() == before


def test_a_taken_sibling_name_refuses(root):
    top = factories.StockLocationFactory(name="Warehouse")
    shelf = factories.StockLocationFactory(name="Shelf B", parent=top)
    pk = shelf.pk
    stock_location_delete(location=shelf, user=root)
    factories.StockLocationFactory(name="shelf b", parent=top)
    with pytest.raises(ValidationError) as refused:
        undelete_object(model=StockLocation, object_id=pk, user=root)
    assert refused.value.messages == [
        "A stock location named 'shelf b' exists in 'Warehouse': Warehouse/shelf b; "
        "rename it first."
    ]
    assert not StockLocation.objects.filter(pk=pk).exists()


def test_a_deleted_parent_refuses_and_names_its_path(root):
    top = factories.PartCategoryFactory(name="Electronics")
    middle = factories.PartCategoryFactory(name="Passives", parent=top)
    leaf = factories.PartCategoryFactory(name="Resistors", parent=middle)
    leaf_pk, middle_pk = leaf.pk, middle.pk
    part_category_delete(category=leaf, user=root)
    part_category_delete(category=middle, user=root)
    before = snapshot()

    with pytest.raises(ValidationError) as refused:
        undelete_object(model=PartCategory, object_id=leaf_pk, user=root)
    assert refused.value.messages == [
        "Its parent part category 'Electronics/Passives' has been deleted: "
        "restore Electronics/Passives first."
    ]
    assert snapshot() == before
    plan = plan_undelete(model=PartCategory, object_id=leaf_pk, user=root)
    assert plan.problems[0].restore_first == (PartCategory, middle_pk)

    undelete_object(model=PartCategory, object_id=middle_pk, user=root)  # parent first: fine
    undelete_object(model=PartCategory, object_id=leaf_pk, user=root)
    assert PartCategory.objects.get(pk=leaf_pk).pathstring == "Electronics/Passives/Resistors"


def test_a_deleted_default_location_is_left_empty_with_a_note(root):
    store = factories.StockLocationFactory(name="Store")
    category = factories.PartCategoryFactory(name="Cables", default_location=store)
    pk = category.pk
    part_category_delete(category=category, user=root)
    stock_location_delete(location=store, user=root)

    plan = plan_undelete(model=PartCategory, object_id=pk, user=root)
    assert plan.ok
    assert "Default location 'Store' no longer exists and is left empty." in plan.notes

    restored = undelete_object(model=PartCategory, object_id=pk, user=root)
    assert restored.default_location is None


def test_a_part_whose_category_is_now_structural_is_refused_by_the_model(root):
    category = factories.PartCategoryFactory(name="Passives")
    part = factories.PartFactory(category=category)
    pk = part.pk
    delete_with_history(part, user=root, reason="Deleted")
    category.structural = True
    save_with_history(category, user=root, reason="Edited")
    with pytest.raises(ValidationError, match="structural"):
        undelete_object(model=Part, object_id=pk, user=root)
    assert not Part.objects.filter(pk=pk).exists()


def test_an_object_that_exists_is_not_undeleted(root):
    part = factories.PartFactory()
    with pytest.raises(ValidationError, match="exists: it is not deleted"):
        undelete_object(model=Part, object_id=part.pk, user=root)
    with pytest.raises(ValidationError, match="no deleted part #999999"):
        undelete_object(model=Part, object_id=999999, user=root)


def test_undelete_url_only_for_undeletable_models():
    assert undelete_url(Part, 5) == "/admin/inventory/part/5/undelete/"
    assert undelete_url(Company, 5) == "/admin/orders/company/5/undelete/"
    assert undelete_url(StockItem, 5) is None


# --- the admin page -----------------------------------------------------------------------


def deleted_part(user, **fields):
    part = factories.PartFactory(**fields)
    pk = part.pk
    delete_with_history(part, user=user, reason="Deleted")
    return pk


def test_preview_then_restore(client, root):
    pk = deleted_part(root, name="Old part", ipn="OLD-1", description="kept")
    client.force_login(root)
    page = client.get(url(Part, pk))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Old part" in text and "OLD-1" in text and "kept" in text
    assert 'name="restore"' in text
    assert not Part.objects.filter(pk=pk).exists()  # a GET writes nothing

    response = client.post(url(Part, pk), follow=True)
    assert response.redirect_chain[-1][0] == f"/admin/inventory/part/{pk}/change/"
    assert "The part 'OLD-1 | Old part' was restored." in messages_of(response)
    assert Part.objects.get(pk=pk).ipn == "OLD-1"


def test_preview_shows_the_refusal_and_no_button(client, root):
    pk = deleted_part(root, ipn="R-9")
    other = factories.PartFactory(ipn="R-9")
    client.force_login(root)
    text = client.get(url(Part, pk)).content.decode()
    assert "A part with IPN R-9 exists" in text
    assert f"/admin/inventory/part/{other.pk}/change/" in text  # a link to the other part
    assert 'name="restore"' not in text
    response = client.post(url(Part, pk), follow=True)
    assert any(m.startswith("Not restored: A part with IPN R-9") for m in messages_of(response))
    assert not Part.objects.filter(pk=pk).exists()


def test_preview_links_the_parent_to_restore_first(client, root):
    top = factories.StockLocationFactory(name="Warehouse")
    shelf = factories.StockLocationFactory(name="Shelf", parent=top)
    shelf_pk, top_pk = shelf.pk, top.pk
    stock_location_delete(location=shelf, user=root)
    stock_location_delete(location=top, user=root)
    client.force_login(root)
    text = client.get(url(StockLocation, shelf_pk)).content.decode()
    assert "restore Warehouse first" in text
    assert url(StockLocation, top_pk) in text


def test_the_version_page_of_a_deleted_object_links_to_undelete(client, root):
    company = factories.CompanyFactory(name="Gone Ltd")
    pk = company.pk
    first = company.history.get()
    delete_with_history(company, user=root, reason="Deleted")
    client.force_login(root)
    text = client.get(f"/admin/orders/company/{pk}/history/{first.history_id}/").content.decode()
    assert f'href="{url(Company, pk)}"' in text


def test_an_existing_object_redirects_with_a_message(client, root):
    part = factories.PartFactory()
    client.force_login(root)
    response = client.get(url(Part, part.pk), follow=True)
    assert response.redirect_chain[-1][0] == f"/admin/inventory/part/{part.pk}/change/"
    assert any("is not deleted" in m for m in messages_of(response))
    assert client.get(url(Part, 999999)).status_code == 404
    assert client.get("/admin/inventory/part/abc/undelete/").status_code == 404


# --- who may restore ----------------------------------------------------------------------

# demo account -> may it restore each model? (the role's add permission, docs/permissions.md)
MAY_RESTORE = {
    "reader": {"part": False, "category": False, "location": False, "company": False},
    "engineer": {"part": True, "category": True, "location": False, "company": False},
    "allaccess": {"part": True, "category": True, "location": True, "company": True},
    "admin": {"part": True, "category": True, "location": True, "company": True},
}


def _deleted_objects(root):
    part = factories.PartFactory(category=None)
    category = factories.PartCategoryFactory()
    location = factories.StockLocationFactory()
    company = factories.CompanyFactory()
    made = {"part": part, "category": category, "location": location, "company": company}
    deleted = {}
    for key, obj in made.items():
        deleted[key] = (type(obj), obj.pk)
        delete_with_history(obj, user=root, reason="Deleted")
    return deleted


@pytest.mark.parametrize("username", list(MAY_RESTORE))
def test_permission_matrix_get_and_forged_post(client, demo, root, username):
    deleted = _deleted_objects(root)
    client.force_login(demo[username])
    for key, (model, pk) in deleted.items():
        allowed = MAY_RESTORE[username][key]
        status = client.get(url(model, pk)).status_code
        assert status == (200 if allowed else 403), (username, key, status)
        if allowed:
            continue
        before = snapshot()
        assert client.post(url(model, pk), {"restore": "1"}).status_code == 403
        assert snapshot() == before
        assert not model.objects.filter(pk=pk).exists()
        with pytest.raises(PermissionDenied):
            undelete_object(model=model, object_id=pk, user=demo[username])


def test_engineer_may_restore_a_part(client, demo, root):
    pk = deleted_part(root, category=None)
    client.force_login(demo["engineer"])
    assert client.post(url(Part, pk)).status_code == 302
    assert latest(Part, pk).history_user == demo["engineer"]


def test_ownership_of_the_parent_location_is_needed(client, demo, root, settings):
    settings.STOCK_OWNERSHIP_CONTROL = True
    theirs = factories.StockLocationFactory(name="Quarantine")
    assign_perm("inventory.change_stocklocation", factories.UserFactory(), theirs)
    shelf = factories.StockLocationFactory(name="Shelf", parent=theirs)
    pk = shelf.pk
    stock_location_delete(location=shelf, user=root)
    client.force_login(demo["allaccess"])  # may add locations, but does not own Quarantine
    assert client.get(url(StockLocation, pk)).status_code == 403
    before = snapshot()
    assert client.post(url(StockLocation, pk)).status_code == 403
    assert snapshot() == before
    with pytest.raises(PermissionDenied, match="You do not own 'Quarantine'"):
        undelete_object(model=StockLocation, object_id=pk, user=demo["allaccess"])
    # its owner may
    assign_perm("inventory.change_stocklocation", demo["allaccess"], theirs)
    assert client.post(url(StockLocation, pk)).status_code == 302
    assert StockLocation.objects.get(pk=pk).pathstring == "Quarantine/Shelf"


def test_a_restored_part_is_found_by_the_part_search(client, root):
    pk = deleted_part(root, name="Flux capacitor", ipn="FC-88", description="time circuits")
    undelete_object(model=Part, object_id=pk, user=root)
    client.force_login(root)
    for term in ("FC-88", "capacitor", "circuits"):
        page = client.get("/admin/inventory/part/", {"q": term}).content.decode()
        assert f"/admin/inventory/part/{pk}/change/" in page, term
    other = client.get("/admin/inventory/part/", {"q": "nothing-like-it"}).content.decode()
    assert f"/admin/inventory/part/{pk}/change/" not in other


def test_a_part_whose_category_was_deleted_names_the_category(root):
    top = factories.PartCategoryFactory(name="Mechanical")
    screws = factories.PartCategoryFactory(name="Screws", parent=top)
    part = factories.PartFactory(name="M3x8", category=screws)
    pk, screws_pk = part.pk, screws.pk
    delete_with_history(part, user=root, reason="Deleted")
    part_category_delete(category=screws, user=root)
    with pytest.raises(ValidationError) as refused:
        undelete_object(model=Part, object_id=pk, user=root)
    assert refused.value.messages == [
        "Its part category 'Mechanical/Screws' has been deleted: restore Mechanical/Screws first."
    ]
    undelete_object(model=PartCategory, object_id=screws_pk, user=root)
    assert undelete_object(model=Part, object_id=pk, user=root).category_id == screws_pk


def test_a_variant_whose_template_was_deleted_is_refused(root):
    template = factories.PartFactory(name="Resistor", ipn="", is_template=True, category=None)
    variant = factories.PartFactory(name="Resistor 10k", variant_of=template, category=None)
    pk = variant.pk
    delete_with_history(variant, user=root, reason="Deleted")
    delete_with_history(template, user=root, reason="Deleted")
    with pytest.raises(ValidationError, match="The template part 'Resistor' it is a variant of"):
        undelete_object(model=Part, object_id=pk, user=root)
