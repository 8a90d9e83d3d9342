"""Export writers: formula neutralisation, typed cells, streaming."""

import datetime as dt
import io
import zipfile
from decimal import Decimal
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from admin_customisations.importing.files import read_sheet
from admin_customisations.importing.writers import (
    EXPORT_FORMATS,
    neutralise,
    write_csv,
    write_xlsx,
)

PREFIXES = ["=", "+", "-", "@", "\t", "\r"]


def csv_lines(headers, rows) -> list[str]:
    buffer = io.BytesIO()
    write_csv(headers, rows, buffer)
    data = buffer.getvalue()
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM, so Excel keeps accents
    return data[3:].decode("utf-8").split("\r\n")


def xlsx_cells(headers, rows):
    buffer = io.BytesIO()
    write_xlsx(headers, rows, buffer)
    buffer.seek(0)
    sheet = openpyxl.load_workbook(buffer).active
    return [[cell for cell in row] for row in sheet.iter_rows()]


@pytest.mark.parametrize("prefix", PREFIXES, ids=repr)
def test_neutralise_prefixes_a_quote_and_deletes_nothing(prefix):
    text = f'{prefix}HYPERLINK("http://evil")'
    assert neutralise(text) == "'" + text


@pytest.mark.parametrize("value", ["plain", "", "a=b", " =1", "'already", "5"])
def test_other_text_is_left_alone(value):
    assert neutralise(value) == value


@pytest.mark.parametrize("value", [-5, -2.5, Decimal("-1.5"), 0, None, True])
def test_numbers_and_other_values_are_not_text(value):
    assert neutralise(value) is value


@pytest.mark.parametrize("prefix", PREFIXES, ids=repr)
def test_csv_neutralises_each_prefix(prefix):
    lines = csv_lines(["Note"], [[f"{prefix}1+1"]])
    # a CR makes the csv module quote the cell; the leading ' is inside the quotes
    expected = f'"\'{prefix}1+1"' if prefix == "\r" else f"'{prefix}1+1"
    assert lines[1] == expected


@pytest.mark.parametrize("prefix", PREFIXES, ids=repr)
def test_xlsx_neutralises_each_prefix(prefix):
    cells = xlsx_cells(["Note"], [[f"{prefix}1+1"]])
    cell = cells[1][0]
    assert cell.data_type == "s"  # text, never a formula ("f")
    # XML turns a CR into LF; the quote is there either way
    assert cell.value == "'" + f"{prefix}1+1".replace("\r", "\n")


def test_headers_are_neutralised_too():
    assert csv_lines(["=cmd"], [])[0] == "'=cmd"
    assert xlsx_cells(["=cmd"], [])[0][0].value == "'=cmd"


def test_numbers_stay_numbers_and_text_numbers_are_neutralised():
    row = [-5, "-5", Decimal("-1.50"), -0.25, 42]
    assert csv_lines(["a", "b", "c", "d", "e"], [row])[1] == "-5,'-5,-1.5,-0.25,42"
    cells = xlsx_cells(["a", "b", "c", "d", "e"], [row])[1]
    assert [(c.value, c.data_type) for c in cells] == [
        (-5, "n"),
        ("'-5", "s"),
        (-1.5, "n"),
        (-0.25, "n"),
        (42, "n"),
    ]


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("2.50000"), "2.5"),
        (Decimal("1E+2"), "100"),
        (Decimal("0.000"), "0"),
        (Decimal("-0"), "0"),
        (Decimal("0.0000125"), "0.0000125"),
        (1e-05, "0.00001"),
        (2.0, "2"),
    ],
)
def test_decimals_are_written_without_exponent_or_trailing_zeros(value, text):
    assert csv_lines(["x"], [[value]])[1] == text
    cell = xlsx_cells(["x"], [[value]])[1][0]
    assert cell.data_type == "n"
    assert Decimal(str(cell.value)) == Decimal(text)


def test_dates_are_dates(settings):
    settings.TIME_ZONE = "Europe/Zurich"
    day = dt.date(2024, 5, 1)
    moment = dt.datetime(2024, 5, 1, 11, 45, tzinfo=ZoneInfo("UTC"))  # 13:45 in Zurich
    assert csv_lines(["Day", "When"], [[day, moment]])[1] == "2024-05-01,2024-05-01 13:45:00"
    day_cell, moment_cell = xlsx_cells(["Day", "When"], [[day, moment]])[1]
    assert day_cell.is_date and day_cell.value.date() == day
    assert day_cell.number_format == "yyyy-mm-dd"
    assert moment_cell.is_date and moment_cell.value == dt.datetime(2024, 5, 1, 13, 45)
    assert moment_cell.number_format == "yyyy-mm-dd h:mm:ss"


def test_booleans_are_true_false_and_none_is_empty():
    assert csv_lines(["a", "b", "c"], [[True, False, None]])[1] == "TRUE,FALSE,"
    cells = xlsx_cells(["a", "b", "c"], [[True, False, None]])[1]
    assert [(c.value, c.data_type) for c in cells[:2]] == [(True, "b"), (False, "b")]
    assert cells[2].value is None


def test_text_with_characters_xml_cannot_hold_still_exports():
    cell = xlsx_cells(["x"], [["bell\x07here"]])[1][0]
    assert cell.value == "bell\ufffdhere"


def test_an_export_reads_back_as_it_was_written():
    headers = ["IPN", "Note", "Qty", "Price", "Active", "Day"]
    data = [
        ["P-1", "=not a formula", 5, Decimal("2.50"), True, dt.date(2024, 5, 1)],
        ["P-2", "-5", -5, Decimal("0.1"), False, None],
        ["P-3", "Crème €", 0, None, None, dt.date(2024, 12, 31)],
    ]
    expected = [
        (2, ["P-1", "=not a formula", "5", "2.5", "TRUE", "2024-05-01"]),
        (3, ["P-2", "-5", "-5", "0.1", "FALSE", ""]),
        (4, ["P-3", "Crème €", "0", "", "", "2024-12-31"]),
    ]
    for key, filename in (("csv", "export.csv"), ("xlsx", "export.xlsx")):
        buffer = io.BytesIO()
        assert EXPORT_FORMATS[key].write(headers, data, buffer) == 3
        buffer.seek(0)
        sheet = read_sheet(buffer, filename=filename)
        assert sheet.headers == headers
        assert list(sheet.rows) == expected, key


def test_export_formats_name_their_content_types():
    assert EXPORT_FORMATS["csv"].content_type == "text/csv; charset=utf-8"
    assert EXPORT_FORMATS["xlsx"]["content_type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert {key: f.extension for key, f in EXPORT_FORMATS.items()} == {
        "csv": "csv",
        "xlsx": "xlsx",
    }


def test_a_100000_row_xlsx_is_written_from_a_generator():
    produced = 0

    def generate():
        nonlocal produced
        for i in range(100_000):
            produced += 1
            yield [f"P-{i:06d}", i, Decimal("0.0125"), i % 2 == 0]

    buffer = io.BytesIO()
    assert write_xlsx(["IPN", "Qty", "Price", "Even"], generate(), buffer) == 100_000
    assert produced == 100_000
    buffer.seek(0)
    workbook = openpyxl.load_workbook(buffer, read_only=True)
    first = next(workbook.active.iter_rows(min_row=2, max_row=2, values_only=True))
    assert first == ("P-000000", 0, 0.0125, True)
    workbook.close()
    # count the rows in the sheet XML as it streams out of the zip (parsing all is slow)
    rows, tail = 0, b""
    with zipfile.ZipFile(buffer) as archive:
        with archive.open("xl/worksheets/sheet1.xml") as xml:
            while chunk := xml.read(1 << 20):
                rows += (tail + chunk).count(b"<row ") - tail.count(b"<row ")
                tail = chunk[-8:]
    assert rows == 100_001


def test_a_large_csv_is_written_from_a_generator():
    buffer = io.BytesIO()
    count = write_csv(["IPN", "Qty"], ([f"P-{i}", i] for i in range(20_000)), buffer)
    assert count == 20_000
    lines = buffer.getvalue().decode("utf-8-sig").split("\r\n")
    assert lines[1] == "P-0,0" and lines[20_000] == "P-19999,19999" and lines[-1] == ""
