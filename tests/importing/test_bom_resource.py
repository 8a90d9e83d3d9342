"""BOM line import/export (builds/resources.py): both file shapes, through the BOM rules."""

import io
from decimal import Decimal

import pytest
from django.contrib.auth.models import User

from admin_customisations.importing.exporting import write_export
from admin_customisations.importing.resource import resource_for
from builds.models import BomItem, BomItemSubstitute
from builds.resources import join_designators, natural_key, parse_dnp, split_designators
from builds.services.bom import bom_item_create, bom_substitute_add
from fixtures.accounts import ensure_demo_accounts
from inventory.models import Part
from orders.models import ManufacturerPart
from tests import factories
from tests.importing.engine_support import csv_text, import_file, messages, validate

pytestmark = pytest.mark.django_db

LINE_HEADERS = ["Assembly IPN", "Sub-part IPN", "Quantity", "References", "Optional", "Substitutes"]
DESIGNATOR_HEADERS = ["Assembly IPN", "Designator", "Sub-part IPN", "DNP"]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def parts(db):
    make = factories.PartFactory
    return {
        "ASM": make(ipn="ASM-1", name="Mainboard", assembly=True),
        "TOP": make(ipn="TOP-1", name="Product", assembly=True),
        "R1": make(ipn="R-01", name="Resistor 10k"),
        "R2": make(ipn="R-02", name="Resistor 1k"),
        "C1": make(ipn="C-01", name="Capacitor 100n"),
    }


def export_csv(user, resource_name="bom_lines") -> str:
    resource = resource_for(resource_name)
    out = io.BytesIO()
    write_export(resource, resource.queryset(user), resource.headers(), "csv", out)
    return out.getvalue().decode("utf-8-sig")


# ---------------------------------------------------------------- helpers


def test_designators_sort_naturally_and_split_on_commas_and_spaces():
    assert split_designators("R1, R2 R3;R4") == ["R1", "R2", "R3", "R4"]
    assert join_designators(["R10", "R2", "R1", "C3"]) == "C3, R1, R2, R10"
    assert sorted(["U10", "U9", "u1"], key=natural_key) == ["u1", "U9", "U10"]
    assert [parse_dnp(v) for v in ("DNP", "x", "yes", "", "no", "maybe")] == [
        True,
        True,
        True,
        False,
        False,
        None,
    ]


# ---------------------------------------------------------------- one row per line


def test_line_rows_create_lines_with_substitutes_and_attributed_history(superuser, parts):
    text = csv_text(
        LINE_HEADERS,
        [
            ["ASM-1", "R-01", "4", "R1, R2, R3, R4", "", "R-02"],
            ["ASM-1", "C-01", "2", "C1, C2", "TRUE", ""],
        ],
    )
    run = import_file(superuser, "bom_lines", text)
    assert run.status == "committed", messages(run)
    assert (run.new_count, run.updated_count) == (2, 0)
    resistor = BomItem.objects.get(part=parts["ASM"], sub_part=parts["R1"])
    assert resistor.quantity == 4 and resistor.reference == "R1, R2, R3, R4"
    assert not resistor.optional
    assert [s.part for s in resistor.substitutes.all()] == [parts["R2"]]
    assert BomItem.objects.get(sub_part=parts["C1"]).optional
    record = resistor.history.get()
    assert record.history_user == superuser
    assert record.history_change_reason == f"Imported from upload.csv (import #{run.pk})"


def test_round_trip_export_then_import_is_all_unchanged(superuser, parts):
    line = bom_item_create(
        part=parts["ASM"], sub_part=parts["R1"], quantity="2.5", reference="R1, R2",
        overage="5%", note="Paste, grams", user=superuser,
    )  # fmt: skip
    bom_substitute_add(bom_item=line, part=parts["R2"], user=superuser)
    bom_item_create(
        part=parts["ASM"], sub_part=parts["C1"], quantity=1, optional=True, consumable=True,
        user=superuser,
    )  # fmt: skip
    bom_item_create(part=parts["TOP"], sub_part=parts["ASM"], quantity=1, user=superuser)
    history = BomItem.history.count(), BomItemSubstitute.history.count()
    text = export_csv(superuser)
    assert text.splitlines()[0] == (
        "Assembly IPN,Sub-part IPN,Quantity,References,Optional,Consumable,Allow variants,"
        "Inherited,Overage,Note,Substitutes"
    )
    run = import_file(superuser, "bom_lines", text, filename="export.csv")
    assert run.status == "committed", messages(run)
    assert (run.new_count, run.updated_count, run.unchanged_count) == (0, 0, 3)
    assert (BomItem.history.count(), BomItemSubstitute.history.count()) == history


def test_reimport_updates_by_natural_key_and_clears_validated(superuser, parts):
    line = bom_item_create(part=parts["ASM"], sub_part=parts["R1"], quantity=2, user=superuser)
    BomItem.objects.filter(pk=line.pk).update(validated=True)
    text = csv_text(LINE_HEADERS, [["asm-1", "r-01", "3", "R1, R2, R3", "FALSE", "R-02"]])
    run, _ = validate(superuser, "bom_lines", text)
    assert (run.new_count, run.updated_count) == (0, 1), messages(run)
    run = import_file(superuser, "bom_lines", text)
    line.refresh_from_db()
    assert (line.quantity, line.reference, line.validated) == (Decimal(3), "R1, R2, R3", False)
    assert [s.part for s in line.substitutes.all()] == [parts["R2"]]
    assert BomItem.objects.count() == 1
    again = import_file(superuser, "bom_lines", text)
    assert (again.updated_count, again.unchanged_count) == (0, 1)


def test_missing_sub_part_is_an_error_with_a_suggestion_and_nothing_is_imported(superuser, parts):
    text = csv_text(
        LINE_HEADERS,
        [["ASM-1", "C-01", "1", "", "", ""], ["ASM-1", "R-O1", "1", "", "", ""]],
    )
    run = import_file(superuser, "bom_lines", text)
    assert run.status == "invalid"
    assert messages(run) == [
        "row 3, column Sub-part IPN: 'R-O1' does not exist — did you mean 'R-01'? Tick "
        "'Create missing sub-parts' to create it from the row."
    ]
    assert not BomItem.objects.exists()


# ---------------------------------------------------------------- the BOM rules


def test_a_line_that_makes_the_bom_contain_itself_is_refused(superuser, parts):
    bom_item_create(part=parts["TOP"], sub_part=parts["ASM"], quantity=1, user=superuser)
    parts["TOP"].component = True
    parts["TOP"].save()
    text = csv_text(
        LINE_HEADERS,
        [["ASM-1", "R-01", "1", "", "", ""], ["ASM-1", "TOP-1", "1", "", "", ""]],
    )
    run = import_file(superuser, "bom_lines", text)
    assert run.status == "invalid"
    assert messages(run) == [
        "row 3, column Sub-part IPN: 'TOP-1 | Product' cannot be used in the BOM of "
        "'ASM-1 | Mainboard': the BOM would contain itself: ASM-1 | Mainboard → TOP-1 | "
        "Product → ASM-1 | Mainboard."
    ]
    assert BomItem.objects.count() == 1


def test_a_loop_made_by_two_rows_of_the_same_file_is_refused(superuser, parts):
    for part in (parts["ASM"], parts["TOP"]):
        part.component = True
        part.save()
    text = csv_text(
        LINE_HEADERS,
        [["TOP-1", "ASM-1", "1", "", "", ""], ["ASM-1", "TOP-1", "1", "", "", ""]],
    )
    run = import_file(superuser, "bom_lines", text)
    assert run.status == "invalid"
    assert {e["row"] for e in run.errors} == {2, 3}
    assert all("the BOM would contain itself" in e["message"] for e in run.errors)
    assert not BomItem.objects.exists()


def test_a_locked_assembly_refuses_the_import(superuser, parts):
    Part.objects.filter(pk=parts["ASM"].pk).update(locked=True)
    text = csv_text(LINE_HEADERS, [["ASM-1", "R-01", "1", "", "", ""]])
    run = import_file(superuser, "bom_lines", text)
    assert run.status == "invalid"
    assert messages(run) == [
        "row 2, column Assembly IPN: 'ASM-1 | Mainboard' is locked: its BOM cannot be "
        "changed. Unlock the part first."
    ]
    assert not BomItem.objects.exists()


def test_a_part_that_is_not_an_assembly_cannot_get_lines(superuser, parts):
    text = csv_text(LINE_HEADERS, [["R-02", "R-01", "1", "", "", ""]])
    run = import_file(superuser, "bom_lines", text)
    assert messages(run) == [
        "row 2, column Assembly IPN: 'R-02 | Resistor 1k' is not an assembly, so it cannot "
        "have a BOM."
    ]


# ---------------------------------------------------------------- one row per designator


def designator_file(rows, headers=DESIGNATOR_HEADERS):
    return csv_text(headers, rows)


def test_designator_rows_are_grouped_into_lines(superuser, parts):
    text = designator_file(
        [
            ["ASM-1", "R10", "R-01", ""],
            ["ASM-1", "C1", "C-01", ""],
            ["ASM-1", "R2", "R-01", ""],
            ["ASM-1", "R1", "r-01", ""],
        ]
    )
    run = import_file(superuser, "bom_lines", text, filename="kicad.csv")
    assert run.status == "committed", messages(run)
    assert run.new_count == 2
    resistor = BomItem.objects.get(sub_part=parts["R1"])
    assert (resistor.quantity, resistor.reference) == (Decimal(3), "R1, R2, R10")
    capacitor = BomItem.objects.get(sub_part=parts["C1"])
    assert (capacitor.quantity, capacitor.reference) == (Decimal(1), "C1")


@pytest.mark.parametrize("dnp", ["optional", "skip"])
def test_do_not_place_rows_become_optional_lines_or_are_skipped(superuser, parts, dnp):
    text = designator_file(
        [
            ["ASM-1", "R1", "R-01", ""],
            ["ASM-1", "R2", "R-01", "DNP"],
            ["ASM-1", "R3", "R-01", "DNP"],
            ["ASM-1", "C1", "C-01", "x"],
        ]
    )
    run = import_file(superuser, "bom_lines", text, options={"dnp": dnp})
    assert run.status == "committed", messages(run)
    lines = {
        (line.sub_part.ipn, line.optional): (line.quantity, line.reference)
        for line in BomItem.objects.select_related("sub_part")
    }
    if dnp == "optional":
        assert lines == {
            ("R-01", False): (Decimal(1), "R1"),
            ("R-01", True): (Decimal(2), "R2, R3"),
            ("C-01", True): (Decimal(1), "C1"),
        }
    else:
        assert lines == {("R-01", False): (Decimal(1), "R1")}


def test_designator_file_imported_twice_is_unchanged(superuser, parts):
    text = designator_file([["ASM-1", "R1", "R-01", ""], ["ASM-1", "R2", "R-01", ""]])
    import_file(superuser, "bom_lines", text)
    again = import_file(superuser, "bom_lines", text)
    assert (again.new_count, again.unchanged_count) == (0, 1)


def test_a_designator_used_twice_is_an_error(superuser, parts):
    text = designator_file([["ASM-1", "R1", "R-01", ""], ["ASM-1", "R1", "C-01", ""]])
    run = import_file(superuser, "bom_lines", text)
    assert messages(run) == [
        "row 3, column Designator: R1 appears twice for 'ASM-1': rows 2 and 3."
    ]
    assert not BomItem.objects.exists()


def test_sub_parts_found_by_manufacturer_and_mpn(superuser, parts):
    maker = factories.ManufacturerFactory(name="Yageo")
    factories.ManufacturerPartFactory(part=parts["R1"], manufacturer=maker, mpn="RC0603FR-0710KL")
    headers = ["Assembly IPN", "Designator", "Manufacturer", "MPN", "Value", "Footprint"]
    text = designator_file(
        [
            ["ASM-1", "R1", "Yageo", "RC0603FR-0710KL", "10k", "0603"],
            ["ASM-1", "R2", "yageo", "rc0603fr-0710kl", "10k", "0603"],
        ],
        headers,
    )
    run = import_file(superuser, "bom_lines", text)
    assert run.status == "committed", messages(run)
    line = BomItem.objects.get()
    assert (line.sub_part, line.quantity, line.reference) == (parts["R1"], 2, "R1, R2")


def test_missing_sub_parts_are_created_from_the_rows_when_asked(superuser, parts):
    maker = factories.ManufacturerFactory(name="Texas Instruments")
    headers = ["Assembly IPN", "Designator", "Sub-part IPN", "Manufacturer", "MPN", "Description"]
    rows = [
        ["ASM-1", "U1", "U-100", "Texas Instruments", "TPS62162DSGR", "Buck converter 1 A"],
        ["ASM-1", "U2", "U-100", "Texas Instruments", "TPS62162DSGR", "Buck converter 1 A"],
        ["ASM-1", "R1", "R-01", "", "", ""],
    ]
    refused = import_file(superuser, "bom_lines", designator_file(rows, headers))
    assert refused.status == "invalid"
    assert messages(refused) == [
        "row 2, column Sub-part IPN: 'U-100' does not exist. Tick 'Create missing sub-parts' "
        "to create it from the row."
    ]
    run = import_file(
        superuser, "bom_lines", designator_file(rows, headers), options={"create_missing": True}
    )
    assert run.status == "committed", messages(run)
    created = Part.objects.get(ipn="U-100")
    assert (created.description, created.component, created.created_by) == (
        "Buck converter 1 A",
        True,
        superuser,
    )
    assert ManufacturerPart.objects.get(part=created).manufacturer == maker
    line = BomItem.objects.get(sub_part=created)
    assert (line.quantity, line.reference) == (2, "U1, U2")
    assert created.history.get().history_change_reason.startswith("Imported from upload.csv")


# ---------------------------------------------------------------- permissions


def test_engineers_may_import_boms_readers_may_not(parts):
    ensure_demo_accounts()
    text = csv_text(LINE_HEADERS, [["ASM-1", "R-01", "1", "", "", ""]])
    reader = import_file(User.objects.get(username="reader"), "bom_lines", text)
    assert reader.status == "invalid"
    assert messages(reader) == [
        "file: You may not import bom lines: importing needs permission to add and to change "
        "BOM items."
    ]
    engineer = import_file(User.objects.get(username="engineer"), "bom_lines", text)
    assert engineer.status == "committed", messages(engineer)


# ---------------------------------------------------------------- the upload form


def test_the_bom_upload_page_offers_the_options_and_the_run_keeps_them(client, superuser, parts):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    from admin_customisations.models import ImportRun

    client.force_login(superuser)
    url = reverse("admin:builds_bomitem_import")
    page = client.get(url)
    assert page.status_code == 200
    text = page.content.decode()
    assert "Do-not-place rows" in text and "Create missing sub-parts" in text
    data = designator_file([["ASM-1", "R1", "R-01", ""], ["ASM-1", "R2", "R-01", "DNP"]])
    response = client.post(
        url,
        {
            "import_file": SimpleUploadedFile("eda.csv", data.encode(), content_type="text/csv"),
            "delimiter": "",
            "dnp": "skip",
            "create_missing": "on",
        },
    )
    assert response.status_code == 302
    run = ImportRun.objects.get()
    assert run.options == {"dnp": "skip", "create_missing": True}
    assert (run.status, run.new_count, run.total_rows) == ("valid", 1, 1)


def test_one_line_named_twice_in_different_ways_is_refused(superuser, parts):
    maker = factories.ManufacturerFactory(name="Yageo")
    factories.ManufacturerPartFactory(part=parts["R1"], manufacturer=maker, mpn="RC0603")
    headers = ["Assembly IPN", "Designator", "Sub-part IPN", "Manufacturer", "MPN"]
    text = designator_file(
        [["ASM-1", "R1", "R-01", "", ""], ["ASM-1", "R2", "", "Yageo", "RC0603"]], headers
    )
    run = import_file(superuser, "bom_lines", text)
    assert messages(run) == [
        "row 3, column Sub-part IPN: Rows 2 and 3 both mean the line of 'R-01 | Resistor 10k' "
        "in 'ASM-1 | Mainboard': give it once."
    ]
    assert not BomItem.objects.exists()


def test_creating_missing_sub_parts_needs_permission_to_add_parts(parts):
    from django.contrib.auth.models import Group, Permission

    from admin_customisations.roles import set_group_roles

    group = Group.objects.create(name="bom editors")
    set_group_roles(group, {"part": ("view",), "build": ("view",)})
    group.permissions.add(
        *Permission.objects.filter(codename__in=["add_bomitem", "change_bomitem"])
    )
    user = User.objects.create_user("bomeditor", password="pw-bom-123", is_staff=True)
    user.groups.add(group)
    text = designator_file([["ASM-1", "U1", "U-100", ""]])
    run = import_file(user, "bom_lines", text, options={"create_missing": True})
    assert messages(run) == [
        "row 2, column Sub-part IPN: You may not create parts, so 'Create missing sub-parts' "
        "cannot create this one: ask someone who may, or import the part first."
    ]
    assert not Part.objects.filter(ipn="U-100").exists()


def test_an_assembly_locked_between_preview_and_confirm_fails_the_import(superuser, parts):
    from admin_customisations.importing import engine

    text = csv_text(LINE_HEADERS, [["ASM-1", "R-01", "1", "", "", ""]])
    run, _ = validate(superuser, "bom_lines", text)
    assert run.status == "valid"
    Part.objects.filter(pk=parts["ASM"].pk).update(locked=True)
    summary = engine.commit(run)
    run.refresh_from_db()
    assert run.status == "failed"
    assert summary["message"].startswith("The import failed and nothing was imported")
    assert messages(run) == [
        "row 2, column Assembly IPN: 'ASM-1 | Mainboard' is locked: its BOM cannot be "
        "changed. Unlock the part first."
    ]
    assert not BomItem.objects.exists()


def test_a_loop_through_existing_and_new_lines_fails_the_commit_with_the_row(superuser, parts):
    """A uses B (file), B uses C (existing), C uses A (file): each row alone is fine, the
    service finds the loop when writing; nothing is written and the row is named."""
    sub = factories.PartFactory(ipn="SUB-1", name="Sub-assembly", assembly=True)
    for part in (parts["ASM"], parts["TOP"]):
        part.component = True
        part.save()
    parts["TOP"].refresh_from_db()
    bom_item_create(part=parts["TOP"], sub_part=sub, quantity=1, user=superuser)
    text = csv_text(
        LINE_HEADERS,
        [["ASM-1", "TOP-1", "1", "", "", ""], ["SUB-1", "ASM-1", "1", "", "", ""]],
    )
    run = import_file(superuser, "bom_lines", text)
    assert run.status == "failed"
    assert len(run.errors) == 1
    error = run.errors[0]
    assert (error["row"], error["column"]) == (3, "Sub-part IPN")
    assert "the BOM would contain itself" in error["message"]
    assert BomItem.objects.count() == 1


def test_a_designator_workbook_with_boolean_dnp_cells(superuser, parts):
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Assembly IPN", "Designator", "Sub-part IPN", "Value", "Quantity", "DNP"])
    sheet.append(["ASM-1", "R2", "R-01", "10k", 1, False])
    sheet.append(["ASM-1", "R1", "R-01", "10k", 1, None])
    sheet.append(["ASM-1", "C1", "C-01", "100n", 1, True])
    out = io.BytesIO()
    book.save(out)
    run = import_file(superuser, "bom_lines", out.getvalue(), filename="board.xlsx")
    assert run.status == "committed", messages(run)
    lines = {
        (line.sub_part.ipn, line.optional): (line.quantity, line.reference)
        for line in BomItem.objects.select_related("sub_part")
    }
    assert lines == {("R-01", False): (2, "R1, R2"), ("C-01", True): (1, "C1")}
