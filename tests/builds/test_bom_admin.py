"""BOM admin: the BOM inline on parts, the BOM page, part-list BOM figures and actions,
where-used, and the BOM line admin — saves go through the services, refusals show on the
form (status 200) and change nothing."""

import re

import pytest
from django import forms
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from builds.models import BomItem, BomItemSubstitute
from builds.selectors import is_bom_valid
from builds.services.bom import bom_substitute_add, bom_validate
from inventory.models import Part
from tests.builds.bom_support import (  # noqa: F401 - fixtures
    assembly,
    bom_state,
    component,
    fast_password_hashing_fixture,
    line,
    stock,
)

pytestmark = pytest.mark.django_db

PART_URL = "/admin/inventory/part/"
LINE_URL = "/admin/builds/bomitem/"


def change_url(part) -> str:
    return f"{PART_URL}{part.pk}/change/"


def bom_url(part) -> str:
    return f"{PART_URL}{part.pk}/bom/"


def form_data(response) -> dict:
    """The POST data the change form in ``response`` would submit unchanged."""
    data = {}

    def add(form, only=None):
        for name, field in form.fields.items():
            if only is not None and name not in only:
                continue
            value = form[name].value()
            key = form.add_prefix(name)
            if isinstance(field, forms.BooleanField):
                if value:
                    data[key] = "on"
            elif value is not None:
                data[key] = str(value.pk if hasattr(value, "pk") else value)

    add(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        for name in formset.management_form.fields:
            data[formset.management_form.add_prefix(name)] = formset.management_form[name].value()
        # a read-only inline renders only its rows' hidden id and parent fields
        only = None if inline.has_change_permission else {"id", formset.fk.name}
        for form in formset.initial_forms:
            add(form, only)
    return data


def add_row(data, prefix, **fields) -> dict:
    """Append one new inline row to ``data``."""
    index = int(data[f"{prefix}-TOTAL_FORMS"])
    data[f"{prefix}-TOTAL_FORMS"] = str(index + 1)
    for name, value in fields.items():
        if value is True:
            data[f"{prefix}-{index}-{name}"] = "on"
        elif value is not False:
            data[f"{prefix}-{index}-{name}"] = str(getattr(value, "pk", value))
    return data


def errors_in(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


# ---------------------------------------------------------------------------
# Part page: BOM box, inline, where used


@pytest.fixture
def board():
    board, resistor = assembly("Board"), component("Resistor")
    stock(resistor, 1000)
    line(board, resistor, 10, reference="R1-R10")
    return board


def test_assembly_page_shows_bom_inline_summary_and_link(admin_client_root, board):
    content = admin_client_root.get(change_url(board)).content.decode()
    assert "Bill of materials" in content
    assert 'name="bom_items-0-quantity"' in content
    assert "R1-R10" in content
    assert "1 line" in content and "BOM not validated" in content
    assert re.search(r'class="bom-can-build">100<', content)
    assert f'href="{bom_url(board)}"' in content


def test_component_page_shows_where_used(admin_client_root, board):
    resistor = board.bom_items.get().sub_part
    content = admin_client_root.get(change_url(resistor)).content.decode()
    assert "Used in" in content  # the tab (inventory/admin/part_tabs.py), loaded when shown
    assert 'name="bom_items-TOTAL_FORMS"' not in content  # not an assembly: no BOM inline
    tab = reverse("admin:inventory_part_tab", args=[resistor.pk, "used-in"])
    assert f'hx-get="{tab}"' in content
    used_in = admin_client_root.get(tab).content.decode()
    assert (
        f'href="{change_url(board)}" class="text-primary-600">{board}</a></td><td class="px-4 py-1">10<'
        in used_in
    )


def test_part_page_queries_do_not_grow_with_bom_lines(admin_client_root):
    def page_queries(n):
        part = assembly(f"Board {n}")
        for i in range(n):
            line(part, component(f"C{n}-{i}"), i + 1)
        with CaptureQueriesContext(connection) as queries:
            assert admin_client_root.get(change_url(part)).status_code == 200
        return len(queries)

    assert page_queries(3) == page_queries(30)


def test_inline_adds_a_line_through_the_service(admin_client_root, board):
    data = form_data(admin_client_root.get(change_url(board)))
    module = component("Module", trackable=True)
    add_row(data, "bom_items", sub_part=module, quantity="2", reference="U1", overage="1")
    response = admin_client_root.post(change_url(board), data)
    assert response.status_code == 302, errors_in(response)[:3000]
    added = board.bom_items.get(sub_part=module)
    assert (added.quantity, added.reference, added.overage) == (2, "U1", "1")
    assert added.history.first().history_user.username == "root"
    board.refresh_from_db()
    assert board.trackable  # R7


def test_saving_the_part_unchanged_leaves_the_bom_alone(admin_client_root, board):
    line(board, component("Cap"), "2.5")
    before = bom_state()
    data = form_data(admin_client_root.get(change_url(board)))
    assert data["bom_items-0-quantity"] == "2.5"  # (Cap sorts first) as written, not 2.50000
    assert admin_client_root.post(change_url(board), data).status_code == 302
    after = bom_state()
    assert after.pop("part_history") == before.pop("part_history") + 1  # the part was saved
    assert after == before


def test_inline_edit_and_delete(admin_client_root, board):
    data = form_data(admin_client_root.get(change_url(board)))
    data["bom_items-0-quantity"] = "12"
    assert admin_client_root.post(change_url(board), data).status_code == 302
    item = board.bom_items.get()
    assert item.quantity == 12
    assert item.history.first().history_change_reason == "BOM line changed"
    data["bom_items-0-DELETE"] = "on"
    assert admin_client_root.post(change_url(board), data).status_code == 302
    assert not board.bom_items.exists()


def test_inline_refuses_recursion_inline_and_changes_nothing(admin_client_root, board):
    top = assembly("Top")
    line(top, board, 1)
    data = form_data(admin_client_root.get(change_url(board)))
    add_row(data, "bom_items", sub_part=top, quantity="1")
    data["description"] = "changed too"
    before = bom_state()
    response = admin_client_root.post(change_url(board), data)
    assert response.status_code == 200
    content = errors_in(response)
    assert "the BOM would contain itself" in content
    assert "Nothing was saved: correct the rows marked below." in content
    assert bom_state() == before
    board.refresh_from_db()
    assert board.description != "changed too"


def test_inline_refuses_fractional_trackable_quantity(admin_client_root, board):
    data = form_data(admin_client_root.get(change_url(board)))
    add_row(data, "bom_items", sub_part=component("Module", trackable=True), quantity="2.5")
    before = bom_state()
    response = admin_client_root.post(change_url(board), data)
    assert response.status_code == 200
    assert "is trackable: the quantity must be a whole number" in errors_in(response)
    assert bom_state() == before


def test_locked_part_shows_bom_read_only(admin_client_root, board):
    Part.objects.filter(pk=board.pk).update(locked=True)
    response = admin_client_root.get(change_url(board))
    content = response.content.decode()
    assert "R1-R10" in content
    assert 'name="bom_items-0-quantity"' not in content
    assert "locked: the BOM cannot be changed" in content
    # saving the part's other fields still works
    data = form_data(response)
    data["description"] = "new text"
    assert admin_client_root.post(change_url(board), data).status_code == 302


def test_locked_part_refuses_submitted_bom_rows_with_a_clear_error(admin_client_root, board):
    data = form_data(admin_client_root.get(change_url(board)))  # editable while unlocked
    Part.objects.filter(pk=board.pk).update(locked=True)  # ... then someone locks it
    data["locked"] = "on"
    data["bom_items-0-quantity"] = "99"
    add_row(data, "bom_items", sub_part=component("Cap"), quantity="1")
    before = bom_state()
    response = admin_client_root.post(change_url(board), data)
    assert response.status_code == 200
    assert "is locked: its BOM cannot be changed" in errors_in(response)
    assert bom_state() == before


def test_locking_and_editing_in_one_save_is_refused(admin_client_root, board):
    data = form_data(admin_client_root.get(change_url(board)))
    data["locked"] = "on"
    data["bom_items-0-DELETE"] = "on"
    before = bom_state()
    response = admin_client_root.post(change_url(board), data)
    assert response.status_code == 200
    assert "is locked: its BOM cannot be changed" in errors_in(response)
    assert bom_state() == before
    board.refresh_from_db()
    assert not board.locked


def test_ticking_trackable_propagates_to_assemblies(admin_client_root, board):
    resistor = board.bom_items.get().sub_part
    data = form_data(admin_client_root.get(change_url(resistor)))
    data["trackable"] = "on"
    assert admin_client_root.post(change_url(resistor), data).status_code == 302
    board.refresh_from_db()
    assert board.trackable


def test_ticking_trackable_used_in_a_virtual_assembly_is_refused(admin_client_root):
    bundle, chip = assembly("Bundle", virtual=True), component("Chip")
    line(bundle, chip, 1)
    data = form_data(admin_client_root.get(change_url(chip)))
    data["trackable"] = "on"
    response = admin_client_root.post(change_url(chip), data)
    assert response.status_code == 200
    assert "is virtual, so it cannot become trackable" in errors_in(response)
    chip.refresh_from_db()
    assert not chip.trackable


def test_ticking_trackable_used_in_a_fractional_quantity_is_refused(admin_client_root):
    board, chip = assembly("Board"), component("Chip")
    line(board, chip, "0.5")
    data = form_data(admin_client_root.get(change_url(chip)))
    data["trackable"] = "on"
    response = admin_client_root.post(change_url(chip), data)
    assert response.status_code == 200
    assert "a trackable part needs a whole quantity" in errors_in(response)
    assert not Part.objects.filter(trackable=True).exists()


# ---------------------------------------------------------------------------
# Part list: BOM column, actions


def test_part_list_shows_can_build_and_validation(admin_client_root, board):
    content = admin_client_root.get(PART_URL).content.decode()
    # the badge says what can be built, the note under it whether the BOM is validated
    assert re.search(
        r"can build 100\s*</span><span class=\"list-note\"><span>not validated<", content
    )


def test_part_list_bom_column_queries_are_constant(admin_client_root):
    def list_queries(n):
        for i in range(n):
            part, piece = assembly(f"A{n}-{i}"), component(f"P{n}-{i}")
            stock(piece, 10)
            line(part, piece, 2)
        with CaptureQueriesContext(connection) as queries:
            assert admin_client_root.get(PART_URL).status_code == 200
        return len(queries)

    assert list_queries(2) == list_queries(12)


def run_action(client, url, action, objects, **fields):
    """Submit an action's intermediate form (the "apply" step) with ``fields``."""
    data = {"action": action, ACTION_CHECKBOX_NAME: [str(o.pk) for o in objects], "index": "0"}
    data["apply"] = "1"
    data.update(fields)
    return client.post(url, data)


def test_validate_bom_action(admin_client_root, board):
    form = admin_client_root.post(
        PART_URL, {"action": "validate_bom", ACTION_CHECKBOX_NAME: [board.pk], "index": "0"}
    )
    assert form.status_code == 200 and 'value="validate_bom"' in form.content.decode()
    assert run_action(admin_client_root, PART_URL, "validate_bom", [board]).status_code == 302
    board.refresh_from_db()
    assert is_bom_valid(board) and board.bom_checked_by.username == "root"


def test_validate_bom_action_refuses_non_assemblies(admin_client_root, board):
    plain = component("Plain")
    response = run_action(admin_client_root, PART_URL, "validate_bom", [board, plain])
    assert response.status_code == 302
    board.refresh_from_db()
    assert not board.bom_checksum


def test_copy_bom_action(admin_client_root, board):
    target = assembly("Board v2")
    response = run_action(
        admin_client_root,
        PART_URL,
        "copy_bom",
        [target],
        source=str(board.pk),
        include_substitutes="on",
    )
    assert response.status_code == 302
    assert [(i.sub_part.name, i.quantity) for i in target.bom_items.all()] == [("Resistor", 10)]


def test_copy_bom_action_refusal_shows_on_the_form(admin_client_root, board):
    before = bom_state()
    response = run_action(admin_client_root, PART_URL, "copy_bom", [board], source=str(board.pk))
    assert response.status_code == 200
    assert "cannot be copied onto itself" in errors_in(response)
    assert bom_state() == before


# ---------------------------------------------------------------------------
# BOM page


@pytest.fixture
def product(board):
    product, screw = assembly("Product"), component("Screw")
    line(product, board, 2, overage="1")
    line(product, screw, 4, consumable=True)
    stock(board, 3)
    return product


def test_bom_page_shows_explosion_roll_up_and_can_build(admin_client_root, product):
    response = admin_client_root.get(bom_url(product) + "?quantity=2")
    assert response.status_code == 200
    content = errors_in(response)
    assert re.search(r'id="bom-can-build"[^>]*>1<', content)  # 3 boards in stock ÷ 2
    assert "Multi-level BOM for 2 × Product: 3 rows, 2 levels" in content
    rows = [(r["level"], r["part"].name, r["quantity"]) for r in response.context["rows"]]
    assert rows == [(1, "Board", "5"), (2, "Resistor", "50"), (1, "Screw", "8")]
    leaves = [
        (leaf["part"].name, leaf["quantity"], leaf["available"], leaf["short"])
        for leaf in response.context["leaves"]
    ]
    assert leaves == [("Resistor", "50", "1000", "0"), ("Screw", "8", "0", "8")]
    assert "consumable" in content and "BOM not validated" in content


def test_bom_page_rejects_a_bad_quantity(admin_client_root, product):
    response = admin_client_root.get(bom_url(product) + "?quantity=-3")
    assert response.status_code == 200
    assert response.context["quantity"] == "1"
    assert "must be a positive number" in response.content.decode()


def test_bom_page_validate_button(admin_client_root, product):
    response = admin_client_root.post(bom_url(product), {"validate": "1"})
    assert response.status_code == 302
    product.refresh_from_db()
    assert is_bom_valid(product)
    assert "BOM validated" in admin_client_root.get(bom_url(product)).content.decode()


def test_bom_page_of_a_missing_part_is_404(admin_client_root):
    assert admin_client_root.get(f"{PART_URL}999999/bom/").status_code == 404


def test_bom_page_needs_change_permission_to_validate(client, product):
    from django.contrib.auth.models import Permission

    from tests.factories import UserFactory

    viewer = UserFactory(username="viewer")
    viewer.user_permissions.add(Permission.objects.get(codename="view_part"))
    client.force_login(viewer)
    page = client.get(bom_url(product))
    assert page.status_code == 200 and "Validate BOM" not in page.content.decode()
    assert client.post(bom_url(product), {"validate": "1"}).status_code == 403


# ---------------------------------------------------------------------------
# BOM line admin


def test_line_list_filters_by_assembly_and_where_used(admin_client_root):
    template = component("Resistor", is_template=True)
    variant = component("Resistor 0402", variant_of=template)
    direct = line(assembly("Direct"), variant, 1)
    via_template = line(assembly("Via template"), template, 1, allow_variants=True)
    other = line(assembly("Other"), component("Other"), 1)
    bom_substitute_add(bom_item=other, part=variant, user=None)
    response = admin_client_root.get(f"{LINE_URL}?sub_part__id__exact={variant.pk}")
    assert set(response.context["cl"].result_list) == {direct, via_template, other}
    response = admin_client_root.get(f"{LINE_URL}?part__id__exact={direct.part_id}")
    assert list(response.context["cl"].result_list) == [direct]


def test_line_add_form_uses_the_service(admin_client_root, board):
    cap = component("Cap")
    response = admin_client_root.post(
        f"{LINE_URL}add/",
        {"part": board.pk, "sub_part": cap.pk, "quantity": "3", "reference": "C1"},
    )
    assert response.status_code == 302, errors_in(response)[:2000]
    added = board.bom_items.get(sub_part=cap)
    assert added.history.first().history_change_reason == "Added to BOM"


def test_line_add_form_shows_refusals_and_changes_nothing(admin_client_root, board):
    before = bom_state()
    response = admin_client_root.post(
        f"{LINE_URL}add/", {"part": board.pk, "sub_part": board.pk, "quantity": "1"}
    )
    assert response.status_code == 200
    assert "cannot be used in its own BOM" in errors_in(response)
    assert bom_state() == before


def test_line_change_form_refuses_a_locked_assembly(admin_client_root, board):
    item = board.bom_items.get()
    Part.objects.filter(pk=board.pk).update(locked=True)
    url = f"{LINE_URL}{item.pk}/change/"
    data = form_data(admin_client_root.get(url))
    data["quantity"] = "11"
    before = bom_state()
    response = admin_client_root.post(url, data)
    assert response.status_code == 200
    assert "is locked: its BOM cannot be changed" in errors_in(response)
    assert bom_state() == before


def test_line_delete_of_a_locked_assembly_is_refused_with_a_message(admin_client_root, board):
    item = board.bom_items.get()
    Part.objects.filter(pk=board.pk).update(locked=True)
    response = admin_client_root.get(f"{LINE_URL}{item.pk}/delete/", follow=True)
    assert response.status_code == 200
    assert "is locked: its BOM cannot be changed" in response.content.decode()
    assert (
        admin_client_root.post(f"{LINE_URL}{item.pk}/delete/", {"post": "yes"}).status_code == 302
    )
    assert BomItem.objects.filter(pk=item.pk).exists()


def test_line_delete_goes_through_the_service(admin_client_root, board):
    item = board.bom_items.get()
    response = admin_client_root.post(f"{LINE_URL}{item.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not BomItem.objects.filter(pk=item.pk).exists()
    record = BomItem.history.filter(id=item.pk).order_by("-history_id").first()
    assert record.history_change_reason == "Removed from BOM"


def test_delete_lines_action_is_all_or_nothing(admin_client_root, board):
    other = assembly("Other")
    free = line(other, component("Cap"), 1)
    locked_line = board.bom_items.get()
    Part.objects.filter(pk=board.pk).update(locked=True)
    before = bom_state()
    response = run_action(admin_client_root, LINE_URL, "delete_lines", [free, locked_line])
    assert response.status_code == 200
    assert "is locked" in errors_in(response)
    assert bom_state() == before
    assert run_action(admin_client_root, LINE_URL, "delete_lines", [free]).status_code == 302
    assert not BomItem.objects.filter(pk=free.pk).exists()
    assert "delete_selected" not in admin_client_root.get(LINE_URL).content.decode()


def test_substitutes_inline(admin_client_root, board):
    item = board.bom_items.get()
    url = f"{LINE_URL}{item.pk}/change/"
    data = form_data(admin_client_root.get(url))
    alt = component("Alt")
    add_row(data, "substitutes", part=alt)
    assert admin_client_root.post(url, data).status_code == 302
    substitute = item.substitutes.get()
    assert substitute.part == alt
    assert substitute.history.first().history_user.username == "root"
    # the line's own component is refused on the row, nothing changes
    data = form_data(admin_client_root.get(url))
    add_row(data, "substitutes", part=item.sub_part)
    before = bom_state()
    response = admin_client_root.post(url, data)
    assert response.status_code == 200
    assert "this line&#x27;s own component" in response.content.decode()
    assert bom_state() == before
    # removing
    data = form_data(admin_client_root.get(url))
    data["substitutes-0-DELETE"] = "on"
    assert admin_client_root.post(url, data).status_code == 302
    assert not BomItemSubstitute.objects.exists()


def test_line_validated_flag_shows_after_validation(admin_client_root, board):
    bom_validate(part=board, user=None)
    response = admin_client_root.get(f"{LINE_URL}?validated__exact=1")
    assert list(response.context["cl"].result_list) == [board.bom_items.get()]


def test_bom_page_shows_explosion_and_leaves_a_page_at_a_time(
    admin_client_root, product, monkeypatch
):
    from builds.admin import bom_part

    monkeypatch.setattr(bom_part, "EXPLOSION_PAGE_SIZE", 2)
    monkeypatch.setattr(bom_part, "LEAF_PAGE_SIZE", 1)
    response = admin_client_root.get(bom_url(product) + "?quantity=2&rows=2&leaves=2")
    content = response.content.decode()
    # the headings still count the whole BOM; the tables show the requested pages
    assert "Multi-level BOM for 2 × Product: 3 rows, 2 levels" in content
    assert "2 leaf parts" in content
    assert [r["part"].name for r in response.context["rows"]] == ["Screw"]
    leaves = [(leaf["part"].name, leaf["short"]) for leaf in response.context["leaves"]]
    assert leaves == [("Screw", "8")]
    assert "Rows 3–3 of 3 (page 2 of 2)" in content
    assert "Leaf parts 2–2 of 2 (page 2 of 2)" in content
    # the links keep the quantity and the other table's page
    assert 'href="?quantity=2&amp;rows=1&amp;leaves=2#bom-explosion"' in content
    assert 'href="?quantity=2&amp;rows=2&amp;leaves=1#bom-leaves"' in content


@pytest.mark.parametrize("number", ["0", "99", "x"])
def test_bom_page_number_out_of_range_shows_a_page(admin_client_root, product, monkeypatch, number):
    from builds.admin import bom_part

    monkeypatch.setattr(bom_part, "LEAF_PAGE_SIZE", 1)
    response = admin_client_root.get(bom_url(product) + f"?leaves={number}")
    assert response.status_code == 200
    expected = "Screw" if number == "99" else "Resistor"
    assert [leaf["part"].name for leaf in response.context["leaves"]] == [expected]
