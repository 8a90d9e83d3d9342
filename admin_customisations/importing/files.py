"""Reading uploaded spreadsheets safely (docs/importing.md, "File formats and limits").

``read_sheet(fileobj, filename=..., delimiter=None)`` returns a :class:`Sheet`: the header
row and a lazily read, re-iterable sequence of ``(row number, cells)`` where every cell is a
string and every row has exactly one cell per header. Anything wrong with the file itself
raises :class:`SheetError` (a ``ValidationError``) with a sentence a user understands; no
``UnicodeDecodeError``, ``BadZipFile`` or parser text ever reaches the user.

Order of checks, cheapest first, so a hostile file costs (almost) nothing:

1. the file name's extension (CSV: ``.csv .tsv .txt``; Excel: ``.xlsx .xlsm``; ``.xls`` and
   ``.ods`` get their own message);
2. the size (``IMPORT_MAX_FILE_MB``), from ``fileobj.size`` or by seeking to the end — before
   a single byte is read;
3. the first bytes: a ZIP signature is read as a workbook whatever the name; an OLE2
   signature is an old ``.xls`` or a password-protected workbook; images, PDFs and other
   binaries are refused;
4. XLSX: the zip's central directory (entry count, declared unpacked size against
   ``IMPORT_MAX_XLSX_MB``, overlapping entries and the overall compression ratio) before
   any XML is parsed — a zip bomb is refused in milliseconds. Then openpyxl in read-only,
   data-only mode, which parses XML through defusedxml (checked at import time);
5. CSV: the encoding (BOM → UTF-8/UTF-16; otherwise strict UTF-8, else Windows-1252) and
   the delimiter (``, ; tab``, unless given) are detected, then one streaming pass checks
   the whole file (decoding, quoting, row and column caps, values beyond the last header)
   so every file-level problem is reported before the first row is processed.

Rows are read lazily in both formats (``csv.reader`` over a text wrapper, openpyxl
``iter_rows(values_only=True)``); iterating ``Sheet.rows`` again starts from the top. XLSX
problems found while reading (more rows than ``IMPORT_MAX_ROWS``, values beyond the last
header) raise ``SheetError`` from the iteration. The file object must stay open and
seekable while the rows are read.

Cells are returned as typed: CSV cells verbatim; XLSX values the way a user typed them
(``1.0`` → ``"1"``, ``0.1`` → ``"0.1"``, dates ``2024-05-01``, date-times
``2024-05-01 13:45:00``, booleans ``TRUE``/``FALSE``, empty → ``""``). Cells are not
stripped. One exception: the ``'`` our exports put in front of ``= + - @``, tab and CR
(formula neutralisation, ``writers.neutralise``) is removed again, so an export re-imports
unchanged.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
import warnings
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

# openpyxl parses workbook XML with defusedxml when it is installed (no entity expansion,
# no external entities); import it here to fail loudly when it is missing, and check below.
import defusedxml  # noqa: F401
import openpyxl
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from openpyxl.utils import get_column_letter

if not openpyxl.DEFUSEDXML:  # e.g. OPENPYXL_DEFUSEDXML=False in the environment
    raise ImproperlyConfigured("openpyxl must parse XML through defusedxml; it is turned off")

CSV_EXTENSIONS = {".csv", ".tsv", ".txt"}
XLSX_EXTENSIONS = {".xlsx", ".xlsm"}
DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab"}
_DELIMITER_NAMES = {"comma": ",", "semicolon": ";", "tab": "\t", "\\t": "\t"}

# Encodings as shown to users (Sheet.encoding) and the codec that reads them.
UTF8 = "UTF-8"
UTF8_BOM = "UTF-8 with BOM"
UTF16 = "UTF-16"
WINDOWS_1252 = "Windows-1252"
_CODECS = {
    UTF8: "utf-8",
    UTF8_BOM: "utf-8-sig",
    UTF16: "utf-16",
    "UTF-16 (little-endian, no BOM)": "utf-16-le",
    "UTF-16 (big-endian, no BOM)": "utf-16-be",
    WINDOWS_1252: "cp1252",
}

# A workbook with more zip entries than this is not a spreadsheet someone saved.
MAX_ZIP_ENTRIES = 10_000
# Unpacked size / size on disk above which a workbook counts as a zip bomb (checked only
# once the workbook unpacks to more than MIN_RATIO_BYTES; ordinary sheets stay below 100).
MAX_COMPRESSION_RATIO = 250
MIN_RATIO_BYTES = 10 * 1024 * 1024

_SNIFF_BYTES = 8192
_SAMPLE_BYTES = 64 * 1024
# XML turns a CR into LF, so a neutralised "'\r…" comes back from XLSX as "'\n…"
_NEUTRALISED = re.compile(r"'[=+\-@\t\r\n]")

_SIGNATURES = (
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
    (b"BZh", "a bzip2 archive"),
    (b"\x00\x00\x00", "a binary file"),
)
_ZIP = (b"PK\x03\x04", b"PK\x05\x06")
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


class SheetError(ValidationError):
    """The uploaded file cannot be imported; ``message`` says why in one or two sentences."""

    def __init__(self, message: str):
        super().__init__(message, code="sheet")

    def __str__(self) -> str:
        return self.message


@dataclass
class Sheet:
    """An uploaded spreadsheet: headers and lazily read rows (see the module docstring).

    ``format`` is ``"csv"`` or ``"xlsx"``; ``encoding`` (CSV only) is a label for the
    preview: ``"UTF-8"``, ``"UTF-8 with BOM"``, ``"UTF-16"`` or ``"Windows-1252"``;
    ``delimiter`` (CSV only) the character used. ``rows`` yields ``(row number, cells)``:
    the number is the spreadsheet row (header row usually 1, first data row 2), fully
    empty rows are skipped, ``len(cells) == len(headers)``. ``row_count`` is the number of
    data rows when known before reading (CSV), else ``None``.
    """

    format: str
    headers: list[str]
    encoding: str | None
    delimiter: str | None
    rows: _Rows
    row_count: int | None = None
    header_row: int = 1
    _workbook: object = field(default=None, repr=False)

    def close(self) -> None:
        """Release the workbook (XLSX); the caller still owns and closes ``fileobj``."""
        if self._workbook is not None:
            self._workbook.close()
            self._workbook = None


def limits() -> dict[str, int]:
    """The caps in force, from settings (documented in README "Configuration")."""
    return {
        "file_mb": getattr(settings, "IMPORT_MAX_FILE_MB", 20),
        "rows": getattr(settings, "IMPORT_MAX_ROWS", 200_000),
        "columns": getattr(settings, "IMPORT_MAX_COLUMNS", 100),
        "xlsx_mb": getattr(settings, "IMPORT_MAX_XLSX_MB", 200),
    }


def read_sheet(fileobj, *, filename: str, delimiter: str | None = None) -> Sheet:
    """Open an uploaded CSV or XLSX file; raise ``SheetError`` if it cannot be imported."""
    caps = limits()
    extension = _extension(filename)
    _check_extension(filename, extension)
    size = _size(fileobj)
    max_bytes = caps["file_mb"] * 1024 * 1024
    if size > max_bytes:
        raise SheetError(
            f"The file is {_megabytes(size)}; the largest file an import accepts is "
            f"{caps['file_mb']} MB. Split it into smaller files."
        )
    if size == 0:
        raise SheetError("The file is empty.")
    fileobj.seek(0)
    head = fileobj.read(_SNIFF_BYTES)
    if isinstance(head, str):
        raise TypeError("read_sheet needs a file opened in binary mode")
    fileobj.seek(0)
    if head.startswith(_ZIP):
        return _read_xlsx(fileobj, size=size, caps=caps)
    if head.startswith(_OLE2):
        raise SheetError(
            "This is an Excel 97–2003 workbook (.xls) or a password-protected workbook, "
            "which cannot be imported. Save it as an Excel workbook (.xlsx) without a "
            "password, or as CSV, and upload it again."
        )
    if extension in XLSX_EXTENSIONS:
        raise SheetError(
            f"{filename!r} is not a valid Excel workbook (.xlsx): the file is damaged or "
            "is another kind of file renamed. Open it in Excel, save it as .xlsx or CSV "
            "and upload it again."
        )
    label = _encoding_from_bom(head) or _utf16_without_bom(head)
    if label is None:
        _refuse_binary(head, filename)
    return _read_csv(fileobj, bom_label=label, delimiter=_delimiter(delimiter), caps=caps)


def strip_neutralisation(value: str) -> str:
    """Undo ``writers.neutralise``: ``'=SUM(A1)`` → ``=SUM(A1)``; other text unchanged."""
    if value[:1] == "'" and _NEUTRALISED.match(value):
        return value[1:]
    return value


# --- checks shared by both formats -------------------------------------------------------


def _extension(filename: str) -> str:
    name = (filename or "").strip().lower()
    dot = name.rfind(".")
    return name[dot:] if dot > 0 else ""


def _check_extension(filename: str, extension: str) -> None:
    if extension in CSV_EXTENSIONS or extension in XLSX_EXTENSIONS:
        return
    if extension == ".xls":
        raise SheetError(
            "Excel 97–2003 workbooks (.xls) cannot be imported. Save the file as an Excel "
            "workbook (.xlsx) or as CSV and upload it again."
        )
    if extension in {".ods", ".numbers"}:
        raise SheetError(
            f"{extension} spreadsheets cannot be imported. Save the file as an Excel "
            "workbook (.xlsx) or as CSV and upload it again."
        )
    raise SheetError(
        f"{filename!r} is not a spreadsheet this import reads: upload a CSV file (.csv, "
        ".tsv or .txt) or an Excel workbook (.xlsx)."
    )


def _size(fileobj) -> int:
    size = getattr(fileobj, "size", None)
    if isinstance(size, int):
        return size
    position = fileobj.tell()
    end = fileobj.seek(0, io.SEEK_END)
    fileobj.seek(position)
    return end


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):,.1f} MB"


def _column(index: int) -> str:
    """``0`` → ``column 1 (A)``: the number for CSV readers, the letter for Excel users."""
    return f"column {index + 1} ({get_column_letter(index + 1)})"


def _refuse_binary(head: bytes, filename: str) -> None:
    for signature, kind in _SIGNATURES:
        if head.startswith(signature):
            raise SheetError(
                f"{filename!r} is {kind}, not a spreadsheet. Upload a CSV file or an "
                "Excel workbook (.xlsx)."
            )
    controls = sum(1 for byte in head if byte < 0x20 and byte not in b"\t\n\r\f")
    if b"\x00" in head or controls > len(head) // 100:
        raise SheetError(
            f"{filename!r} is not a text file, so it cannot be read as CSV. Upload a CSV "
            "file or an Excel workbook (.xlsx)."
        )


def _delimiter(value: str | None) -> str | None:
    if value is None or value in {"", "auto"}:
        return None
    value = _DELIMITER_NAMES.get(value, value)
    if value not in DELIMITERS:
        raise SheetError("Choose comma, semicolon or tab as the delimiter, or leave it automatic.")
    return value


def _check_headers(raw: list[str], *, number: int, caps: dict) -> list[str]:
    """Strip headers, drop trailing blank ones; refuse blank, duplicate or too many."""
    headers = [cell.replace("\ufeff", "").strip() for cell in raw]
    while headers and not headers[-1]:
        headers.pop()
    if len(headers) > caps["columns"]:
        raise SheetError(
            f"The file has {len(headers)} columns; an import accepts at most "
            f"{caps['columns']}. Remove the columns that are not needed."
        )
    blank = [_column(i) for i, header in enumerate(headers) if not header]
    if blank:
        raise SheetError(
            f"The header row (row {number}) has no name in {_join(blank)}. Give every "
            "column a header or delete the empty columns."
        )
    seen: dict[str, list[int]] = {}
    for index, header in enumerate(headers):
        seen.setdefault(header.casefold(), []).append(index)
    duplicates = [
        f"{headers[indexes[0]]!r} ({_join([_column(i) for i in indexes])})"
        for indexes in seen.values()
        if len(indexes) > 1
    ]
    if duplicates:
        raise SheetError(
            f"The header row (row {number}) names the same column more than once: "
            f"{'; '.join(duplicates)}. Each header may appear only once."
        )
    return headers


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _fit(cells: list[str], width: int, number: int) -> list[str]:
    """Pad a row to the header width; refuse values beyond the last header."""
    if len(cells) > width:
        extra = next((i for i in range(width, len(cells)) if cells[i] and cells[i].strip()), None)
        if extra is not None:
            raise SheetError(
                f"Row {number} has a value in {_column(extra)}, beyond the last header "
                f"({_column(width - 1)}). Check the delimiter, put quotes around values "
                "that contain it, or give the column a header."
            )
        return cells[:width]
    if len(cells) < width:
        return cells + [""] * (width - len(cells))
    return cells


def _too_many_rows(caps: dict) -> SheetError:
    return SheetError(
        f"The file has more than {caps['rows']:,} data rows, the most one import accepts. "
        "Split it into smaller files."
    )


def _empty(cells) -> bool:
    for cell in cells:  # a loop, not all(<generator>): most rows end at the first cell
        if cell is not None and (not isinstance(cell, str) or cell.strip()):
            return False
    return True


class _Rows:
    """Re-iterable rows: each ``iter()`` reads the file again from the top."""

    def __init__(self, reader):
        self._reader = reader

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        return self._reader()


# --- CSV -----------------------------------------------------------------------------------


def _encoding_from_bom(head: bytes) -> str | None:
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        raise SheetError(
            "The file is UTF-32 text, which cannot be imported. Save it as “CSV UTF-8” and "
            "upload it again."
        )
    if head.startswith(codecs.BOM_UTF8):
        return UTF8_BOM
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return UTF16
    return None


def _utf16_without_bom(head: bytes) -> str | None:
    """UTF-16 text without a BOM: ASCII characters leave a NUL in every other byte."""
    pairs = len(head) // 2
    if pairs < 2:
        return None
    even_nul = sum(1 for i in range(0, 2 * pairs, 2) if head[i] == 0)
    odd_nul = sum(1 for i in range(1, 2 * pairs, 2) if head[i] == 0)
    if odd_nul > 0.6 * pairs and even_nul == 0:
        return "UTF-16 (little-endian, no BOM)"
    if even_nul > 0.6 * pairs and odd_nul == 0:
        return "UTF-16 (big-endian, no BOM)"
    return None


class _Unclosing(io.RawIOBase):
    """A raw stream over the caller's file that never closes it (for TextIOWrapper)."""

    def __init__(self, fileobj):
        self._file = fileobj

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._file.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _text(fileobj, codec: str) -> io.TextIOWrapper:
    fileobj.seek(0)
    raw = io.BufferedReader(_Unclosing(fileobj), buffer_size=_SAMPLE_BYTES)
    # newline="": the csv module sees line ends as they are (quoted newlines survive)
    return io.TextIOWrapper(raw, encoding=codec, errors="strict", newline="")


def _read_csv(fileobj, *, bom_label: str | None, delimiter: str | None, caps: dict) -> Sheet:
    labels = [bom_label] if bom_label else [UTF8, WINDOWS_1252]
    for label in labels:
        codec = _CODECS[label]
        chosen = delimiter or _detect_delimiter(fileobj, codec)
        try:
            number, headers, count = _scan_csv(fileobj, codec, chosen, caps)
        except UnicodeDecodeError as exc:
            failure = exc
            continue
        if label == WINDOWS_1252:
            _check_western(fileobj)
        break
    else:
        raise _undecodable(labels, failure)

    def rows() -> Iterator[tuple[int, list[str]]]:
        with _text(fileobj, codec) as text:
            reader = csv.reader(text, delimiter=chosen)
            for index, cells in enumerate(reader, start=1):
                if index <= number or _empty(cells):
                    continue
                cells = _fit(cells, len(headers), index)
                yield index, [strip_neutralisation(cell) for cell in cells]

    return Sheet(
        format="csv",
        headers=headers,
        encoding=label,
        delimiter=chosen,
        rows=_Rows(rows),
        row_count=count,
        header_row=number,
    )


def _scan_csv(fileobj, codec: str, delimiter: str, caps: dict) -> tuple[int, list[str], int]:
    """One streaming pass: header row, data-row count, and every file-level problem."""
    header_number, headers, count = 0, None, 0
    with _text(fileobj, codec) as text:
        reader = csv.reader(text, delimiter=delimiter)
        index = 0
        try:
            for index, cells in enumerate(reader, start=1):
                if _empty(cells):
                    continue
                if headers is None:
                    header_number = index
                    headers = _check_headers(cells, number=index, caps=caps)
                    continue
                count += 1
                if count > caps["rows"]:
                    raise _too_many_rows(caps)
                _fit(cells, len(headers), index)
        except csv.Error as exc:
            raise _csv_problem(exc, index + 1) from None
    if headers is None:
        raise SheetError("The file is empty: it has no header row and no data.")
    if not headers:
        raise SheetError("The header row is empty.")
    if count == 0:
        raise SheetError(
            f"The file has a header row (row {header_number}) but no data rows: nothing to import."
        )
    return header_number, headers, count


def _csv_problem(exc: csv.Error, number: int) -> SheetError:
    text = str(exc)
    if "NUL" in text:
        return SheetError(
            f"Row {number} contains binary data (a NUL character); the file is not a CSV "
            "text file. Upload a CSV file or an Excel workbook (.xlsx)."
        )
    if "field larger" in text:
        return SheetError(
            f"Row {number} has a value longer than {csv.field_size_limit():,} characters, "
            'usually a " that opens a quoted value and is never closed. Check the quotes '
            "from that row on."
        )
    return SheetError(
        f"Row {number} cannot be read as CSV (the quoting is broken). Check the quotes in that row."
    )


def _undecodable(labels: list[str], exc: UnicodeDecodeError) -> SheetError:
    byte = exc.object[exc.start : exc.start + 1].hex().upper() if exc.object else "?"
    if labels == [UTF8, WINDOWS_1252]:
        return SheetError(
            "The file's text encoding is neither UTF-8 nor Windows-1252 (Latin-1): byte "
            f"0x{byte} cannot be read in either. Save it as “CSV UTF-8” and upload it again."
        )
    return SheetError(
        f"The file says it is {labels[0]} text but is not valid {labels[0]} (byte 0x{byte}). "
        "Save it as “CSV UTF-8” and upload it again."
    )


def _check_western(fileobj) -> None:
    """Refuse non-UTF-8 text that is not Western European (Cyrillic, Asian code pages).

    Such bytes usually decode as Windows-1252 too, into nonsense. Western text has its
    non-ASCII letters alone or in pairs (``é``, ``öß``); other code pages produce long runs.
    """
    fileobj.seek(0)
    sample = fileobj.read(4 * _SAMPLE_BYTES).decode("cp1252", errors="replace")
    fileobj.seek(0)
    runs = re.findall(r"[^\x00-\x7f]+", sample)
    high = sum(len(run) for run in runs)
    long = sum(len(run) for run in runs if len(run) >= 3)
    if high >= 8 and long > high / 2:
        raise SheetError(
            "The file is not UTF-8 and does not look like Windows-1252 (Western European) "
            "text either; it is probably in another encoding (for example Windows-1251, "
            "Shift-JIS or GB18030). Save it as “CSV UTF-8” and upload it again."
        )


def _detect_delimiter(fileobj, codec: str) -> str:
    """The candidate that splits the header into most columns and the next rows alike."""
    fileobj.seek(0)
    raw = fileobj.read(_SAMPLE_BYTES)
    fileobj.seek(0)
    truncated = len(raw) == _SAMPLE_BYTES
    sample = raw.decode(codec, errors="replace").lstrip("\ufeff")
    lines = [line for line in sample.splitlines() if line.strip()]
    if truncated and len(lines) > 1:
        lines.pop()  # probably cut in the middle
    lines = lines[:20]
    best, best_score = ",", (0, 1)
    for candidate in DELIMITERS:
        try:
            parsed = list(csv.reader(lines, delimiter=candidate))
        except csv.Error:
            continue
        if not parsed or len(parsed[0]) < 2:
            continue
        width = len(parsed[0])
        score = (sum(1 for row in parsed[1:] if len(row) == width), width)
        if score > best_score:
            best, best_score = candidate, score
    return best


# --- XLSX ----------------------------------------------------------------------------------


def _read_xlsx(fileobj, *, size: int, caps: dict) -> Sheet:
    _check_zip(fileobj, size=size, caps=caps)
    fileobj.seek(0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "no default style" and similar chatter
            workbook = openpyxl.load_workbook(
                fileobj, read_only=True, data_only=True, keep_links=False
            )
    except Exception:  # openpyxl raises KeyError, BadZipFile, ValueError, XML errors...
        raise SheetError(
            "The file cannot be read as an Excel workbook (.xlsx): it is damaged or another "
            "kind of file. Open it in Excel, save it as .xlsx or CSV and upload it again."
        ) from None
    if not workbook.worksheets:
        workbook.close()
        raise SheetError("The workbook has no worksheet (only charts): nothing to import.")
    sheet = workbook.worksheets[0]
    sheet.reset_dimensions()  # the stored dimensions are often wrong; read every cell

    def values() -> Iterator[tuple[int, tuple]]:
        try:
            yield from enumerate(sheet.iter_rows(values_only=True), start=1)
        except Exception:
            raise SheetError(
                "The worksheet cannot be read: the workbook is damaged. Open it in Excel, "
                "save it again and upload it again."
            ) from None

    header_number, headers = 0, None
    try:
        iterator = values()
        for number, row in iterator:
            if _empty(row):
                continue
            if headers is None:
                header_number = number
                headers = _check_headers([cell_text(v) for v in row], number=number, caps=caps)
                continue
            break  # one data row is enough to know the file is not header-only
        else:
            if headers is None:
                raise SheetError("The workbook's first sheet is empty: no header row, no data.")
            raise SheetError(
                f"The first sheet has a header row (row {header_number}) but no data rows: "
                "nothing to import."
            )
        iterator.close()
    except SheetError:
        workbook.close()
        raise
    width = len(headers)

    def rows() -> Iterator[tuple[int, list[str]]]:
        count = 0
        for number, row in values():
            if number <= header_number or _empty(row):
                continue
            count += 1
            if count > caps["rows"]:
                raise _too_many_rows(caps)
            cells = _fit([cell_text(value) for value in row], width, number)
            yield number, [strip_neutralisation(cell) for cell in cells]

    return Sheet(
        format="xlsx",
        headers=headers,
        encoding=None,
        delimiter=None,
        rows=_Rows(rows),
        row_count=None,
        header_row=header_number,
        _workbook=workbook,
    )


def _check_zip(fileobj, *, size: int, caps: dict) -> None:
    """Refuse zip bombs from the central directory alone, before any XML is parsed.

    ``zipfile`` never returns more bytes than an entry's declared size, so the declared
    sizes bound what parsing can unpack; overlapping entries (one compressed stream shared
    by many entries) are refused as well.
    """
    fileobj.seek(0)
    try:
        with zipfile.ZipFile(fileobj) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise SheetError(
            "The file is a damaged zip archive, not a readable Excel workbook (.xlsx). Open "
            "it in Excel, save it as .xlsx or CSV and upload it again."
        ) from None
    finally:
        fileobj.seek(0)
    if not any(entry.filename == "[Content_Types].xml" for entry in entries):
        raise SheetError(
            "The file is a zip archive but not an Excel workbook (.xlsx). Upload a CSV file "
            "or an Excel workbook."
        )
    if len(entries) > MAX_ZIP_ENTRIES:
        raise SheetError(
            f"The workbook contains {len(entries):,} parts, far more than a spreadsheet has; "
            "it is refused. Save the data as CSV and upload that."
        )
    unpacked = sum(entry.file_size for entry in entries)
    packed = sum(entry.compress_size for entry in entries)
    if unpacked > caps["xlsx_mb"] * 1024 * 1024:
        raise SheetError(
            f"The workbook unpacks to {_megabytes(unpacked)}, more than the "
            f"{caps['xlsx_mb']} MB an import accepts (the file may be a “zip bomb”). Save the "
            "data as CSV or split it into smaller files."
        )
    if packed > size:
        raise SheetError(
            "The workbook's zip entries overlap each other, which no spreadsheet program "
            "writes (the file may be a “zip bomb”); it is refused."
        )
    if unpacked > MIN_RATIO_BYTES and unpacked > MAX_COMPRESSION_RATIO * size:
        raise SheetError(
            f"The workbook is compressed {unpacked // size:,} to 1, far more than a "
            "spreadsheet can be (the file may be a “zip bomb”); it is refused. Save the data "
            "as CSV and upload that."
        )


def cell_text(value) -> str:
    """An XLSX cell value as the text a user typed (see the module docstring)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _float_text(value)
    if isinstance(value, Decimal):
        return plain_decimal(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        timespec = "seconds" if not value.microsecond else "microseconds"
        return value.replace(tzinfo=None).isoformat(sep=" ", timespec=timespec)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.isoformat(timespec="seconds" if not value.microsecond else "microseconds")
    if isinstance(value, dt.timedelta):
        return str(value)
    return str(value)


def _float_text(value: float) -> str:
    if value != value or value in (float("inf"), float("-inf")):
        return str(value)
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    # 15 significant digits, as Excel shows them (0.30000000000000004 → 0.3)
    return plain_decimal(Decimal(format(value, ".15g")))


def plain_decimal(value: Decimal) -> str:
    """``Decimal('2.50000')`` → ``2.5``, ``Decimal('1E+2')`` → ``100``: no exponent, no noise."""
    try:
        if value.is_nan() or value.is_infinite():
            return str(value)
        if value == 0:
            return "0"
        return format(value.normalize(), "f")
    except InvalidOperation:
        return str(value)
