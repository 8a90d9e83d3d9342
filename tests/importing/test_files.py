"""read_sheet: formats, encodings, delimiters, caps, hostile and broken files."""

import csv
import datetime as dt
import io
import zipfile

import openpyxl
import pytest

from admin_customisations.importing import files
from admin_customisations.importing.files import SheetError, read_sheet


def csv_file(text: str, encoding: str = "utf-8") -> io.BytesIO:
    return io.BytesIO(text.encode(encoding))


def rows(sheet) -> list:
    return list(sheet.rows)


def xlsx_file(data: list[list]) -> io.BytesIO:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in data:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    return buffer


def refused(fileobj, filename="parts.csv", **kwargs) -> str:
    with pytest.raises(SheetError) as caught:
        sheet = read_sheet(fileobj, filename=filename, **kwargs)
        list(sheet.rows)
    return caught.value.message


# --- CSV: delimiters and encodings -----------------------------------------------------


@pytest.mark.parametrize(
    ("text", "delimiter"),
    [
        ('IPN,Name,Price\nR-1,Resistor,"1,5"\nR-2,Cap,2\n', ","),
        ("IPN;Name;Price\nR-1;Resistor;1,5\nR-2;Cap;2\n", ";"),
        ("IPN\tName\tPrice\nR-1\tResistor\t1,5\nR-2\tCap\t2\n", "\t"),
    ],
    ids=["comma", "semicolon", "tab"],
)
def test_each_delimiter_is_detected(text, delimiter):
    sheet = read_sheet(csv_file(text), filename="parts.csv")
    assert sheet.format == "csv"
    assert sheet.delimiter == delimiter
    assert sheet.headers == ["IPN", "Name", "Price"]
    assert rows(sheet) == [(2, ["R-1", "Resistor", "1,5"]), (3, ["R-2", "Cap", "2"])]
    assert sheet.row_count == 2


def test_a_chosen_delimiter_wins_over_detection():
    text = "IPN;Name\nR-1;a,b,c\n"
    sheet = read_sheet(csv_file(text), filename="parts.csv", delimiter="semicolon")
    assert sheet.delimiter == ";"
    assert rows(sheet) == [(2, ["R-1", "a,b,c"])]
    sheet = read_sheet(csv_file("IPN\nR-1;x\n"), filename="p.csv", delimiter=",")
    assert sheet.headers == ["IPN"]
    assert rows(sheet) == [(2, ["R-1;x"])]


def test_an_unknown_delimiter_choice_is_refused():
    message = refused(csv_file("a|b\n1|2\n"), delimiter="|")
    assert message == "Choose comma, semicolon or tab as the delimiter, or leave it automatic."


@pytest.mark.parametrize(
    ("encoding", "label"),
    [
        ("utf-8", "UTF-8"),
        ("utf-8-sig", "UTF-8 with BOM"),
        ("utf-16", "UTF-16"),
        ("cp1252", "Windows-1252"),
    ],
)
def test_each_encoding_is_detected_and_converted(encoding, label):
    text = "IPN,Description\r\nCAF-1,Café crème 5 €\r\nR-2,Größe – 10 µm\r\n"
    sheet = read_sheet(csv_file(text, encoding), filename="parts.csv")
    assert sheet.encoding == label
    assert sheet.headers == ["IPN", "Description"]  # no BOM left in the first header
    assert rows(sheet) == [
        (2, ["CAF-1", "Café crème 5 €"]),
        (3, ["R-2", "Größe – 10 µm"]),
    ]


def test_latin1_text_is_read_as_windows_1252():
    sheet = read_sheet(csv_file("Name\nEspaña\n", "latin-1"), filename="p.csv")
    assert sheet.encoding == "Windows-1252"
    assert rows(sheet) == [(2, ["España"])]


def test_windows_1252_found_late_in_the_file_still_converts():
    text = "IPN,Name\n" + "".join(f"P-{i},plain\n" for i in range(5000)) + "P-x,Müller\n"
    sheet = read_sheet(csv_file(text, "cp1252"), filename="p.csv")
    assert sheet.encoding == "Windows-1252"
    assert list(sheet.rows)[-1] == (5002, ["P-x", "Müller"])


def test_text_in_neither_utf8_nor_windows_1252_is_refused_naming_both():
    data = b"IPN,Name\nP-1,\x81\x8d\n"  # 0x81 is undefined in Windows-1252, invalid UTF-8
    message = refused(io.BytesIO(data))
    assert message == (
        "The file's text encoding is neither UTF-8 nor Windows-1252 (Latin-1): byte 0x81 "
        "cannot be read in either. Save it as “CSV UTF-8” and upload it again."
    )


def test_cyrillic_code_page_text_is_refused_not_turned_into_nonsense():
    text = "Артикул,Наименование\nР-1,Резистор\nК-2,Конденсатор\n"
    message = refused(csv_file(text, "cp1251"))
    assert message.startswith(
        "The file is not UTF-8 and does not look like Windows-1252 (Western European) text"
    )


def test_a_broken_utf16_file_names_the_encoding():
    data = "IPN\nP-1\n".encode("utf-16") + b"\x00\xd8"  # a lone surrogate
    message = refused(io.BytesIO(data))
    assert message.startswith("The file says it is UTF-16 text but is not valid UTF-16")


# --- headers, rows, empty files --------------------------------------------------------


def test_headers_are_stripped_and_trailing_blank_columns_dropped():
    text = "\ufeff IPN , Name ,,\nP-1,Part,,\n\n  ,  \nP-2,Other\n"
    sheet = read_sheet(csv_file(text), filename="p.csv")
    assert sheet.headers == ["IPN", "Name"]
    # blank rows are skipped, numbers stay the spreadsheet's; short rows are padded
    assert rows(sheet) == [(2, ["P-1", "Part"]), (5, ["P-2", "Other"])]


def test_quoted_newlines_stay_in_one_cell_and_rows_count_records():
    text = 'IPN,Notes\r\nP-1,"line one\r\nline two"\r\nP-2,x\r\n'
    assert rows(read_sheet(csv_file(text), filename="p.csv")) == [
        (2, ["P-1", "line one\r\nline two"]),
        (3, ["P-2", "x"]),
    ]


def test_rows_can_be_read_twice():
    sheet = read_sheet(csv_file("A\n1\n2\n"), filename="p.csv")
    assert rows(sheet) == rows(sheet) == [(2, ["1"]), (3, ["2"])]


def test_duplicate_headers_are_named():
    message = refused(csv_file("IPN,Name,ipn,Name\n1,2,3,4\n"))
    assert message == (
        "The header row (row 1) names the same column more than once: 'IPN' (column 1 (A) "
        "and column 3 (C)); 'Name' (column 2 (B) and column 4 (D)). Each header may appear "
        "only once."
    )


def test_blank_headers_are_named():
    message = refused(csv_file("IPN,,Name\n1,2,3\n"))
    assert message == (
        "The header row (row 1) has no name in column 2 (B). Give every column a header or "
        "delete the empty columns."
    )


def test_a_value_beyond_the_last_header_is_refused_with_its_row():
    message = refused(csv_file("IPN,Name\nP-1,a\nP-2,b,surplus\n"))
    assert message.startswith(
        "Row 3 has a value in column 3 (C), beyond the last header (column 2 (B))."
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty."),
        (b"\r\n \r\n,,\r\n", "The file is empty: it has no header row and no data."),
        (b"IPN,Name\r\n", "The file has a header row (row 1) but no data rows: nothing to import."),
        (
            b"\xef\xbb\xbfIPN,Name\r\n,\r\n",
            "The file has a header row (row 1) but no data rows: nothing to import.",
        ),
    ],
    ids=["zero-bytes", "blank-lines", "header-only", "header-and-blank-row"],
)
def test_empty_files_are_refused(data, message):
    assert refused(io.BytesIO(data)) == message


def test_an_unclosed_quote_is_reported_with_its_row():
    previous = csv.field_size_limit(100)
    try:
        text = 'IPN,Name\nP-1,ok\nP-2,"never closed\n' + "x\n" * 200
        message = refused(csv_file(text))
    finally:
        csv.field_size_limit(previous)
    assert message.startswith('Row 3 has a value longer than 100 characters, usually a "')


def test_neutralised_cells_from_our_exports_read_back_unchanged():
    text = "Note\n'=SUM(A1)\n'-5\n'@x\n'plain\n"
    assert [cells for _, cells in rows(read_sheet(csv_file(text), filename="p.csv"))] == [
        ["=SUM(A1)"],
        ["-5"],
        ["@x"],
        ["'plain"],
    ]


# --- caps ----------------------------------------------------------------------------------


class _Unreadable(io.RawIOBase):
    """A file whose content must never be read: only its size is known."""

    def __init__(self, size):
        self.size = size

    def read(self, *args):
        raise AssertionError("the file was read before its size was checked")

    readinto = read


def test_a_file_over_the_size_cap_is_refused_before_reading():
    just_over = 20 * 1024 * 1024 + 1
    message = refused(_Unreadable(just_over))
    assert message == (
        "The file is 20.0 MB; the largest file an import accepts is 20 MB. Split it into "
        "smaller files."
    )


def test_the_size_cap_follows_the_setting_and_files_without_size_attribute(settings):
    settings.IMPORT_MAX_FILE_MB = 1
    data = io.BytesIO(b"A\n" + b"1\n" * (600 * 1024))  # 1.2 MB, size found by seeking
    assert refused(data) == (
        "The file is 1.2 MB; the largest file an import accepts is 1 MB. Split it into "
        "smaller files."
    )


def test_too_many_rows_is_refused_before_the_first_row(settings):
    settings.IMPORT_MAX_ROWS = 5
    assert read_sheet(csv_file("A\n" + "1\n" * 5), filename="p.csv").row_count == 5
    with pytest.raises(SheetError) as caught:
        read_sheet(csv_file("A\n" + "1\n" * 6), filename="p.csv")
    assert caught.value.message == (
        "The file has more than 5 data rows, the most one import accepts. Split it into "
        "smaller files."
    )


def test_too_many_columns_is_refused(settings):
    settings.IMPORT_MAX_COLUMNS = 3
    assert refused(csv_file("a,b,c,d\n1,2,3,4\n")) == (
        "The file has 4 columns; an import accepts at most 3. Remove the columns that are "
        "not needed."
    )
    assert refused(xlsx_file([["a", "b", "c", "d"], [1, 2, 3, 4]]), "p.xlsx").startswith(
        "The file has 4 columns"
    )


def test_too_many_xlsx_rows_is_refused_while_reading(settings):
    settings.IMPORT_MAX_ROWS = 3
    sheet = read_sheet(xlsx_file([["A"], [1], [2], [3], [4]]), filename="p.xlsx")
    with pytest.raises(SheetError) as caught:
        list(sheet.rows)
    assert caught.value.message.startswith("The file has more than 3 data rows")


def _bomb(unpacked_mb: int) -> io.BytesIO:
    """A workbook-shaped zip whose sheet XML unpacks to ``unpacked_mb`` MB of nothing."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        chunk = b"<row/>" * (1024 * 1024 // 6) + b"    "
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            for _ in range(unpacked_mb):
                sheet.write(chunk)
    buffer.seek(0)
    return buffer


def test_a_zip_bomb_is_refused_from_the_zip_directory_without_parsing(monkeypatch):
    bomb = _bomb(201)
    assert len(bomb.getvalue()) < 1024 * 1024  # small on disk
    monkeypatch.setattr(
        files.openpyxl, "load_workbook", lambda *a, **k: pytest.fail("parsed a zip bomb")
    )
    message = refused(bomb, "bomb.xlsx")
    assert message == (
        "The workbook unpacks to 201.0 MB, more than the 200 MB an import accepts (the file "
        "may be a “zip bomb”). Save the data as CSV or split it into smaller files."
    )


def test_an_absurd_compression_ratio_is_refused(settings, monkeypatch):
    settings.IMPORT_MAX_XLSX_MB = 1000
    monkeypatch.setattr(
        files.openpyxl, "load_workbook", lambda *a, **k: pytest.fail("parsed a zip bomb")
    )
    message = refused(_bomb(20), "bomb.xlsx")
    assert message.startswith("The workbook is compressed ")
    assert "to 1, far more than a spreadsheet can be" in message


# --- not spreadsheets -------------------------------------------------------------------


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (
            PNG,
            "parts.csv",
            "'parts.csv' is a PNG image, not a spreadsheet. Upload a CSV file or an Excel "
            "workbook (.xlsx).",
        ),
        (
            b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n",
            "parts.csv",
            "'parts.csv' is a PDF document, not a spreadsheet. Upload a CSV file or an Excel "
            "workbook (.xlsx).",
        ),
        (
            b"IPN\x00\x01\x02\x03\x04\x05\x06" * 50,
            "parts.txt",
            "'parts.txt' is not a text file, so it cannot be read as CSV. Upload a CSV file or "
            "an Excel workbook (.xlsx).",
        ),
        (
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500),
            "parts.xlsx",
            "This is an Excel 97–2003 workbook (.xls) or a password-protected workbook, which "
            "cannot be imported. Save it as an Excel workbook (.xlsx) without a password, or "
            "as CSV, and upload it again.",
        ),
        (
            b"anything",
            "parts.xls",
            "Excel 97–2003 workbooks (.xls) cannot be imported. Save the file as an Excel "
            "workbook (.xlsx) or as CSV and upload it again.",
        ),
        (
            b"PK\x03\x04" + b"\x00garbage" * 20,
            "parts.xlsx",
            "The file is a damaged zip archive, not a readable Excel workbook (.xlsx). Open it "
            "in Excel, save it as .xlsx or CSV and upload it again.",
        ),
        (
            PNG,
            "parts.xlsx",
            "'parts.xlsx' is not a valid Excel workbook (.xlsx): the file is damaged or is "
            "another kind of file renamed. Open it in Excel, save it as .xlsx or CSV and "
            "upload it again.",
        ),
        (
            b"IPN\n1\n",
            "parts.pdf",
            "'parts.pdf' is not a spreadsheet this import reads: upload a CSV file (.csv, .tsv "
            "or .txt) or an Excel workbook (.xlsx).",
        ),
    ],
    ids=["png", "pdf", "binary", "ole2", "xls-name", "broken-zip", "png-as-xlsx", "pdf-name"],
)
def test_non_spreadsheets_are_refused_clearly(data, filename, message):
    assert refused(io.BytesIO(data), filename) == message


def test_a_zip_that_is_not_a_workbook_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "hello")
    assert refused(buffer, "parts.xlsx") == (
        "The file is a zip archive but not an Excel workbook (.xlsx). Upload a CSV file or an "
        "Excel workbook."
    )


def test_a_zip_with_workbook_parts_missing_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
    assert refused(buffer, "parts.xlsx").startswith(
        "The file cannot be read as an Excel workbook (.xlsx)"
    )


# --- XLSX ------------------------------------------------------------------------------------


def test_xlsx_values_read_as_a_user_typed_them():
    when = dt.datetime(2024, 5, 1, 13, 45, 30)
    book = xlsx_file(
        [
            [" IPN ", "Qty", "Price", "Small", "Big", "Day", "When", "Active", "Empty", "Text"],
            ["P-1", 1.0, 0.1, 1e-05, 1e20, dt.date(2024, 5, 1), when, True, None, "-5"],
            ["P-2", 3, 0.1 + 0.2, -2.5, 12345678.9, dt.datetime(2024, 1, 2), when, False, "", "x"],
        ]
    )
    sheet = read_sheet(book, filename="parts.XLSX")
    assert (sheet.format, sheet.encoding, sheet.delimiter) == ("xlsx", None, None)
    assert sheet.headers[0] == "IPN"
    assert rows(sheet) == [
        (2, ["P-1", "1", "0.1", "0.00001", "100000000000000000000", "2024-05-01",
             "2024-05-01 13:45:30", "TRUE", "", "-5"]),
        (3, ["P-2", "3", "0.3", "-2.5", "12345678.9", "2024-01-02",
             "2024-05-01 13:45:30", "FALSE", "", "x"]),
    ]  # fmt: skip
    sheet.close()


def test_xlsx_blank_rows_are_skipped_and_numbers_kept():
    book = xlsx_file([[None, None], ["IPN", "Name"], ["P-1", "a"], [None, None], ["P-2", None]])
    sheet = read_sheet(book, filename="p.xlsx")
    assert sheet.header_row == 2
    assert rows(sheet) == [(3, ["P-1", "a"]), (5, ["P-2", ""])]


def test_xlsx_formulas_give_their_cached_value_never_the_formula():
    book = xlsx_file([["A", "B"], [1, "=A2*2"]])  # openpyxl stores no cached value
    assert rows(read_sheet(book, filename="p.xlsx")) == [(2, ["1", ""])]


def test_xlsx_header_only_and_empty_sheets_are_refused():
    assert refused(xlsx_file([["IPN", "Name"]]), "p.xlsx") == (
        "The first sheet has a header row (row 1) but no data rows: nothing to import."
    )
    assert refused(xlsx_file([]), "p.xlsx") == (
        "The workbook's first sheet is empty: no header row, no data."
    )


def test_xlsx_duplicate_headers_are_named():
    assert refused(xlsx_file([["IPN", "IPN"], [1, 2]]), "p.xlsx").startswith(
        "The header row (row 1) names the same column more than once: 'IPN' (column 1 (A) "
        "and column 2 (B))."
    )


def test_an_xlsx_named_csv_is_read_as_a_workbook():
    sheet = read_sheet(xlsx_file([["IPN"], ["P-1"]]), filename="parts.csv")
    assert sheet.format == "xlsx"
    assert rows(sheet) == [(2, ["P-1"])]


def test_openpyxl_parses_through_defusedxml():
    import defusedxml  # noqa: F401

    assert openpyxl.DEFUSEDXML is True


def test_django_uploads_are_read_in_memory_and_from_temporary_files(settings):
    from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile

    content = "IPN;Name\r\nP-1;Crème\r\n".encode("cp1252")
    in_memory = SimpleUploadedFile("parts.csv", content)
    on_disk = TemporaryUploadedFile("parts.csv", "text/csv", len(content), None)
    on_disk.write(content)
    for upload in (in_memory, on_disk):
        sheet = read_sheet(upload, filename=upload.name)
        assert (sheet.encoding, sheet.delimiter) == ("Windows-1252", ";")
        assert rows(sheet) == [(2, ["P-1", "Crème"])]
        assert not upload.closed  # the caller still owns the file
    on_disk.close()


def test_utf16_without_a_byte_order_mark_is_recognised():
    sheet = read_sheet(csv_file("IPN\tName\r\nP-1\tCrème\r\n", "utf-16-le"), filename="p.txt")
    assert (sheet.encoding, sheet.delimiter) == ("UTF-16 (little-endian, no BOM)", "\t")
    assert rows(sheet) == [(2, ["P-1", "Crème"])]


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (dt.time(13, 45), "13:45:00"),
        (dt.timedelta(hours=30), "1 day, 6:00:00"),
        (dt.datetime(2024, 5, 1, 13, 45, 0, 500000), "2024-05-01 13:45:00.500000"),
        (-0.0, "0"),
        (123456789012345.0, "123456789012345"),
        ("  kept as typed  ", "  kept as typed  "),
    ],
)
def test_cell_text_of_other_xlsx_values(value, text):
    assert files.cell_text(value) == text
