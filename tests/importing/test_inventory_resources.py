"""Inventory resources: categories, locations, parts, parameter templates, part parameters,
stock items — round trips, updates by natural key, each resource's own rules."""

import io
from decimal import Decimal

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import Group, User
from guardian.shortcuts import assign_perm

from admin_customisations.importing.resource import resource_for
from admin_customisations.importing.writers import write_csv, write_xlsx
from admin_customisations.models import ImportRun
from admin_customisations.roles import set_group_roles
from inventory.choices import StockHistoryCode, StockStatus
from inventory.models import (
    Part,
    PartCategory,
    PartParameter,
    PartParameterTemplate,
    StockItem,
    StockItemTracking,
    StockLocation,
)
from tests.importing.engine_support import csv_text, import_file, messages, validate

pytestmark = pytest.mark.django_db
Status = ImportRun.Status


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def world(db):
    electronics = PartCategory.objects.create(name="Electronics", structural=True)
    passives = PartCategory.objects.create(name="Passives", parent=electronics)
    store = StockLocation.objects.create(name="Store")
    shelf = StockLocation.objects.create(name="Shelf A", parent=store)
    resistor = Part.objects.create(
        ipn="R-1", name="Resistor", category=passives, minimum_stock=Decimal("2.5")
    )
    sensor = Part.objects.create(ipn="S-1", name="Sensor", category=passives, trackable=True)
    template = PartParameterTemplate.objects.create(name="Resistance", units="ohm")
    PartParameter.objects.create(part=resistor, template=template, data="10k")
    return {
        "passives": passives,
        "store": store,
        "shelf": shelf,
        "resistor": resistor,
        "sensor": sensor,
        "template": template,
    }


def export(name, fmt="csv", queryset=None) -> tuple[bytes, str]:
    resource = resource_for(name)
    out = io.BytesIO()
    writer = write_csv if fmt == "csv" else write_xlsx
    writer(resource.headers(), resource.export_rows(queryset or resource.queryset()), out)
    return out.getvalue(), f"{name}.{fmt}"


# ---------------------------------------------------------------- round trips


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize(
    "name", ["categories", "locations", "parts", "parameter_templates", "part_parameters"]
)
def test_round_trip_is_all_unchanged(superuser, world, name, fmt):
    data, filename = export(name, fmt)
    run, summary = validate(superuser, name, data, filename=filename)
    assert messages(run) == []
    assert summary["status"] == Status.VALID
    assert summary["new"] == summary["updated"] == 0
    assert summary["unchanged"] == resource_for(name).queryset().count() > 0


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_stock_round_trip_is_all_unchanged(superuser, world, fmt):
    from inventory.services.stock import stock_item_create

    stock_item_create(
        part=world["sensor"], quantity=3, serials="1-3", location=world["shelf"], user=superuser
    )
    for _ in range(2):  # two identical reels
        stock_item_create(
            part=world["resistor"],
            quantity=Decimal("250.5"),
            location=world["shelf"],
            batch="LOT-1",
            expiry_date="2027-01-31",
            purchase_price=Decimal("0.012"),
            purchase_price_currency="EUR",
            notes="Reel",
            user=superuser,
        )
    stock_item_create(part=world["resistor"], quantity=7, user=superuser)  # no location
    data, filename = export("stock_items", fmt)
    run, summary = validate(superuser, "stock_items", data, filename=filename)
    assert messages(run) == [] and summary["status"] == Status.VALID
    assert (summary["new"], summary["updated"], summary["unchanged"]) == (0, 0, 6)
    run = import_file(superuser, "stock_items", data, filename=filename)  # idempotent
    assert run.status == Status.COMMITTED and (run.new_count, run.unchanged_count) == (0, 6)
    assert StockItem.objects.count() == 6


def test_stock_rows_without_serials_match_held_items_one_each(superuser, world):
    from inventory.services.stock import stock_item_create

    for _ in range(2):
        stock_item_create(
            part=world["resistor"], quantity=100, location=world["shelf"], user=superuser
        )
    same = ["R-1", "Store/Shelf A", "100", "", "", "OK", ""]
    text = csv_text(
        STOCK,
        [
            same,
            same,
            same,  # a third identical row: new stock
            ["R-1", "Store/Shelf A", "100", "", "LOT-2", "OK", ""],  # differs: new stock
            ["R-1", "Store/Shelf A", "99", "", "", "", ""],  # differs: new stock
        ],
    )
    run = import_file(superuser, "stock_items", text)
    assert run.status == Status.COMMITTED, messages(run)
    assert (run.new_count, run.updated_count, run.unchanged_count) == (3, 0, 2)
    assert StockItem.objects.count() == 5
    assert sorted(StockItem.objects.values_list("quantity", flat=True)) == [99, 100, 100, 100, 100]
    run = import_file(superuser, "stock_items", text)  # the same file again: all unchanged
    assert (run.new_count, run.unchanged_count) == (0, 5) and StockItem.objects.count() == 5


def test_matching_rows_without_serials_costs_no_query_per_row(superuser, world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from inventory.services.stock import stock_item_create

    for i in range(40):
        stock_item_create(part=world["resistor"], quantity=i + 1, user=superuser)
    counts = []
    for n in (4, 40):
        text = csv_text(
            ["Part", "Location", "Quantity"], [["R-1", "", str(i + 1)] for i in range(n)]
        )
        with CaptureQueriesContext(connection) as queries:
            run, summary = validate(superuser, "stock_items", text)
        assert summary["unchanged"] == n, messages(run)
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_identical_rows_across_chunks_never_match_stock_the_import_created(
    superuser, world, settings
):
    settings.IMPORT_CHUNK_ROWS = 2
    row = ["R-1", "Store/Shelf A", "5", "", "", "", ""]
    run = import_file(superuser, "stock_items", csv_text(STOCK, [row] * 5))
    assert run.status == Status.COMMITTED, messages(run)
    assert run.new_count == 5 and StockItem.objects.count() == 5
    run = import_file(superuser, "stock_items", csv_text(STOCK, [row] * 6))
    assert (run.new_count, run.unchanged_count) == (1, 5) and StockItem.objects.count() == 6


# ---------------------------------------------------------------- categories and locations


def test_categories_parent_earlier_in_the_file_and_update_by_path(superuser, world):
    text = csv_text(
        ["Path", "Description"],
        [
            ["Electronics/Passives", "Updated"],
            ["Electronics/Actives", "New"],
            [" electronics / Actives /Transistors", "Below a new row"],
        ],
    )
    run = import_file(superuser, "categories", text)
    assert run.status == Status.COMMITTED, messages(run)
    assert (run.new_count, run.updated_count) == (2, 1)
    transistors = PartCategory.objects.get(pathstring="Electronics/Actives/Transistors")
    assert transistors.parent.name == "Actives" and transistors.level == 2
    assert PartCategory.objects.get(pk=world["passives"].pk).description == "Updated"
    record = transistors.history.first()
    assert record.history_user == superuser and record.history_change_reason.startswith(
        "Imported from upload.csv"
    )


def test_category_with_a_missing_parent_suggests_the_closest(superuser, world):
    text = csv_text(["Path"], [["Electronics/Pasives/Capacitors"]])
    run, _ = validate(superuser, "categories", text)
    assert messages(run) == [
        "row 2, column Path: The parent 'Electronics/Pasives' does not exist and is not a row "
        "earlier in this file; add it first — did you mean 'Electronics/Passives'?"
    ]
    assert PartCategory.objects.count() == 2


def test_parent_rows_must_come_before_their_children(superuser, world):
    text = csv_text(["Path"], [["Tools/Hand tools"], ["Tools"]])
    run, _ = validate(superuser, "categories", text)
    assert messages(run) == [
        "row 2, column Path: The parent 'Tools' does not exist and is not a row earlier in "
        "this file; add it first."
    ]


def test_locations_respect_ownership_per_row(settings, world):
    settings.STOCK_OWNERSHIP_CONTROL = True
    team = Group.objects.create(name="store team")
    set_group_roles(team, {"stock_location": ("view", "add", "change")})
    member = User.objects.create_user("member", password="pw-member-1", is_staff=True)
    member.groups.add(team)
    other = StockLocation.objects.create(name="Other")
    owner = User.objects.create_user("owner", password="pw-owner-1", is_staff=True)
    assign_perm("inventory.change_stocklocation", owner, other)
    assign_perm("inventory.change_stocklocation", member, world["store"])
    text = csv_text(
        ["Path", "Description"],
        [["Store/Shelf B", "mine"], ["Other/Bin 1", "not mine"], ["Other", "not mine either"]],
    )
    run, _ = validate(member, "locations", text)
    assert messages(run) == [
        "row 3, column Path: You do not own 'Other' (or the owned location above it), so this "
        "import cannot change it or add locations below it.",
        "row 4, column Path: You do not own 'Other' (or the owned location above it), so this "
        "import cannot change it or add locations below it.",
    ]
    assert not StockLocation.objects.filter(name="Shelf B").exists()


# ---------------------------------------------------------------- parts


def test_parts_update_by_ipn_ignoring_case_and_keep_audit_fields(superuser, world):
    resistor = world["resistor"]
    text = csv_text(["IPN", "Name", "Description"], [["r-1", "Resistor", "Now described"]])
    run = import_file(superuser, "parts", text)
    assert run.updated_count == 1
    resistor.refresh_from_db()
    assert resistor.description == "Now described" and resistor.ipn == "R-1"
    assert resistor.created_by is None  # an update never claims the part was created by us


def test_parts_without_ipn_match_by_name_and_revision(superuser, world):
    Part.objects.create(name="Bracket", revision="B", category=world["passives"])
    text = csv_text(
        ["IPN", "Name", "Revision", "Units"],
        [["", "Bracket", "B", "pcs"], ["", "Bracket", "C", ""]],
    )
    run = import_file(superuser, "parts", text)
    assert (run.updated_count, run.new_count) == (1, 1)
    assert Part.objects.get(name="Bracket", revision="B").units == "pcs"


@pytest.mark.parametrize(
    "header", ["Created by", "BOM checked by", "BOM checked date", "BOM checksum"]
)
def test_audit_fields_cannot_be_imported(superuser, world, header):
    run, _ = validate(superuser, "parts", csv_text(["IPN", "Name", header], [["R-9", "X", "1"]]))
    assert messages(run)[0].startswith(f"row 1: Unknown column: '{header}'.")


def test_in_stock_column_is_exported_and_ignored_on_import(superuser, world):
    text = csv_text(["IPN", "Name", "In stock"], [["R-1", "Resistor", "999"]])
    run = import_file(superuser, "parts", text)
    assert run.unchanged_count == 1
    assert Part.objects.get(ipn="R-1").in_stock_total == 0


def test_variant_of_by_ipn(superuser, world):
    Part.objects.create(ipn="T-1", name="Template", is_template=True, category=world["passives"])
    text = csv_text(
        ["IPN", "Name", "Variant of"], [["V-1", "Variant", "t-1"], ["V-2", "Bad", "R-1"]]
    )
    run, _ = validate(superuser, "parts", text)
    assert messages(run) == [
        "row 3, column Variant of: 'R-1 | Resistor' is not a template part, so it cannot have "
        "variants."
    ]


# ---------------------------------------------------------------- parameters


def test_parameter_templates_and_values(superuser, world):
    text = csv_text(
        ["Name", "Checkbox", "Choices"], [["RoHS", "TRUE", ""], ["Package", "FALSE", "0402,0603"]]
    )
    assert import_file(superuser, "parameter_templates", text).new_count == 2
    text = csv_text(
        ["Part", "Parameter", "Value"],
        [["R-1", "rohs", "yes"], ["R-1", "Package", "0603"], ["R-1", "Resistance", "4700"]],
    )
    run = import_file(superuser, "part_parameters", text)
    assert (run.new_count, run.updated_count) == (2, 1), messages(run)
    values = {p.template.name: p for p in PartParameter.objects.filter(part=world["resistor"])}
    assert values["RoHS"].data == "True"
    assert values["Resistance"].data == "4700" and values["Resistance"].data_numeric == 4700.0
    bad = csv_text(["Part", "Parameter", "Value"], [["R-1", "Package", "1206"], ["R-2", "X", "1"]])
    run, _ = validate(superuser, "part_parameters", bad)
    assert messages(run) == [
        "row 2, column Value: '1206' is not one of the allowed values: 0402, 0603.",
        "row 3, column Part: 'R-2' does not exist — did you mean 'R-1'?",
        "row 3, column Parameter: 'X' does not exist.",
    ]


# ---------------------------------------------------------------- stock


STOCK = ["Part", "Location", "Quantity", "Serial numbers", "Batch", "Status", "Expiry date"]


def test_stock_rows_go_through_stock_item_create(superuser, world):
    text = csv_text(
        STOCK,
        [
            ["R-1", "Store/Shelf A", "250", "", "LOT-1", "OK", "2027-01-31"],
            ["S-1", "store/shelf a", "3", "100-102", "", "Damaged", ""],
        ],
    )
    run = import_file(superuser, "stock_items", text, filename="stock.csv")
    assert run.status == Status.COMMITTED, messages(run)
    assert run.new_count == 2
    reel = StockItem.objects.get(part=world["resistor"])
    assert reel.quantity == 250 and reel.batch == "LOT-1" and str(reel.expiry_date) == "2027-01-31"
    serials = StockItem.objects.filter(part=world["sensor"]).order_by("serial_int")
    assert [i.serial for i in serials] == ["100", "101", "102"]
    assert {i.status for i in serials} == {StockStatus.DAMAGED}
    entry = StockItemTracking.objects.get(item=reel)
    assert entry.tracking_type == StockHistoryCode.CREATED and entry.user == superuser
    # the service's own history rows carry the import's reason, not "Stock created"
    assert (
        entry.history.get().history_change_reason == f"Imported from stock.csv (import #{run.pk})"
    )
    record = reel.history.get()
    assert record.history_user == superuser
    assert record.history_change_reason == f"Imported from stock.csv (import #{run.pk})"
    world["resistor"].refresh_from_db()
    assert world["resistor"].in_stock_total == 250  # figures refreshed once per chunk


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (
            ["R-1", "Store/Shelf A", "3", "1-3", "", "", ""],
            "row 2, column Serial numbers: 'R-1 | Resistor' is not trackable, so its stock "
            "cannot have serial numbers.",
        ),
        (
            ["S-1", "Store/Shelf A", "2.5", "", "", "", ""],
            "row 2, column Quantity: 'S-1 | Sensor' is trackable: use a whole number.",
        ),
        (
            ["R-1", "Store", "1", "", "", "Broken", ""],
            "row 2, column Status: 'Broken' is not one of the choices: OK, Attention needed, "
            "Damaged, Destroyed, Rejected, Lost, Quarantined, Returned.",
        ),
        (
            ["R-1", "Store/Shelf B", "1", "", "", "", ""],
            "row 2, column Location: 'Store/Shelf B' does not exist — did you mean "
            "'Store/Shelf A'?",
        ),
        (
            ["R-1", "Store/Shelf A", "abc", "", "", "", ""],
            "row 2, column Quantity: 'abc' is not a number.",
        ),
        (
            ["R-1", "Store/Shelf A", "1e30", "", "", "", ""],
            "row 2, column Quantity: Quantity is too large (must be less than 10,000,000,000).",
        ),
        (
            ["R-1", "Store/Shelf A", "1e5000", "", "", "", ""],
            "row 2, column Quantity: Quantity is too large (must be less than 10,000,000,000).",
        ),
        (
            ["R-1", "Store/Shelf A", "1e-5000", "", "", "", ""],
            "row 2, column Quantity: Quantity can have at most 5 decimal places.",
        ),
        (
            ["R-1", "Store/Shelf A", "1", "", "", "", "31/01/2027"],
            "row 2, column Expiry date: '31/01/2027' is not a date (use YYYY-MM-DD, e.g. "
            "2026-12-31).",
        ),
        (
            ["S-1", "Store/Shelf A", "2", "1-3", "", "", ""],
            "row 2, column Serial numbers: The expression gives 3 serial numbers but the "
            "quantity is 2.",
        ),
    ],
)
def test_bad_stock_rows(superuser, world, row, expected):
    run, _ = validate(superuser, "stock_items", csv_text(STOCK, [row]))
    assert messages(run) == [expected]
    assert StockItem.objects.count() == 0


def test_serials_in_use_or_repeated_in_the_file(superuser, world):
    from inventory.services.stock import stock_item_create

    stock_item_create(part=world["sensor"], quantity=1, serials="5", user=superuser)
    text = csv_text(
        STOCK,
        [
            ["S-1", "Store/Shelf A", "3", "4-6", "", "", ""],
            ["S-1", "Store/Shelf A", "2", "7-8", "", "", ""],
            ["S-1", "Store/Shelf A", "1", "8", "", "", ""],
        ],
    )
    run, _ = validate(superuser, "stock_items", text)
    assert messages(run) == [
        "row 2, column Serial numbers: Serial numbers already in use for 'S-1 | Sensor': 5.",
        "row 4, column Serial numbers: Serial number 8 appears twice in the file: rows 3 and 4.",
    ]
    assert StockItem.objects.count() == 1


def test_existing_serialized_item_updates_only_non_stock_fields(superuser, world):
    from inventory.services.stock import stock_item_create

    [item] = stock_item_create(
        part=world["sensor"], quantity=1, serials="9", location=world["shelf"], user=superuser
    )
    same_place = csv_text(STOCK, [["S-1", "Store/Shelf A", "1", "9", "LOT-9", "", ""]])
    run = import_file(superuser, "stock_items", same_place)
    assert run.updated_count == 1
    item.refresh_from_db()
    assert item.batch == "LOT-9"
    moved = csv_text(STOCK, [["S-1", "Store", "1", "9", "LOT-9", "", ""]])
    run, _ = validate(superuser, "stock_items", moved)
    assert messages(run) == [
        "row 2, column Serial numbers: Stock item Sensor #9 exists already; its location can "
        "only change through the stock actions (move, count, change status), not by import."
    ]


def test_stock_ownership_is_checked_per_row(settings, world):
    settings.STOCK_OWNERSHIP_CONTROL = True
    team = Group.objects.create(name="clerks")
    set_group_roles(team, {"stock": ("view", "add", "change"), "part": ("view",)})
    clerk = User.objects.create_user("clerk", password="pw-clerk-1", is_staff=True)
    clerk.groups.add(team)
    elsewhere = StockLocation.objects.create(name="Elsewhere")
    owner = User.objects.create_user("owner", password="pw-owner-1", is_staff=True)
    assign_perm("inventory.change_stocklocation", owner, elsewhere)
    text = csv_text(
        ["Part", "Location", "Quantity"], [["R-1", "Store/Shelf A", "5"], ["R-1", "Elsewhere", "5"]]
    )
    run, _ = validate(clerk, "stock_items", text)
    assert messages(run) == [
        "row 3, column Location: You do not own 'Elsewhere' (or the owned location above it), "
        "so this import cannot add stock to it."
    ]
    assert StockItem.objects.count() == 0


def test_virtual_parts_hold_no_stock(superuser, world):
    Part.objects.create(ipn="L-1", name="Licence", virtual=True, category=world["passives"])
    run, _ = validate(superuser, "stock_items", csv_text(["Part", "Quantity"], [["L-1", "1"]]))
    assert messages(run) == [
        "row 2, column Part: 'L-1 | Licence' is virtual: it cannot hold stock."
    ]


# ---------------------------------------------------------------- example files


def test_example_files_import_in_order(superuser):
    examples = django_settings.BASE_DIR / "fixtures" / "examples"
    for name in (
        "locations",
        "categories",
        "parts",
        "parameter_templates",
        "part_parameters",
        "stock_items",
    ):
        path = examples / f"{name}.csv"
        resource = resource_for(name)
        header = path.read_text(encoding="utf-8").splitlines()[0]
        assert header.split(",") == resource.headers(), name
        run = import_file(superuser, name, path.read_bytes(), filename=path.name)
        assert run.status == Status.COMMITTED, (name, messages(run))
    assert StockItem.objects.get().quantity == 4000
