"""Writing exports: CSV and XLSX, streamed, typed, formula-neutralised (docs/importing.md).

``write_csv(headers, rows, fileobj)`` and ``write_xlsx(headers, rows, fileobj)`` take the
header list and an iterable of rows (lists of typed Python values, as
``SheetResource.export_row`` returns them) and write to a binary file object, consuming
the rows one at a time; both return the number of data rows written. ``iter_csv`` yields
the CSV as byte chunks for a ``StreamingHttpResponse``.

Values:

- ``int``, ``float``, ``Decimal``: numbers (typed XLSX number cells; plain digits in CSV,
  ``-5`` stays ``-5``); a Decimal loses exponent and trailing-zero noise
  (``Decimal('2.50000')`` → ``2.5``, ``Decimal('1E+2')`` → ``100``);
- ``date`` / ``datetime``: XLSX date cells (``yyyy-mm-dd`` / ``yyyy-mm-dd hh:mm:ss``);
  ISO text in CSV; aware date-times are converted to the site time zone and made naive;
- ``bool``: XLSX boolean cells (Excel shows TRUE/FALSE); ``TRUE``/``FALSE`` in CSV;
- ``None``: an empty cell;
- anything else is text (``str(value)``), and **every text cell starting with ``=``, ``+``,
  ``-``, ``@``, tab or carriage return gets a leading ``'``** (``neutralise``), in both
  formats, so a spreadsheet program never runs it as a formula. Nothing is deleted; the
  importer (``files.strip_neutralisation``) removes that ``'`` again, so an export
  re-imports unchanged. A text field holding ``-5`` is text and is neutralised; a number
  ``-5`` is a number and is not.

CSV is UTF-8 **with a byte-order mark** and CRLF line ends: Excel then opens it with
accents intact (without the BOM it assumes the local ANSI code page); our importer, Python
and LibreOffice read the BOM transparently. XLSX uses openpyxl's write-only workbook: rows
go to a temporary file as they arrive, so memory does not grow with the number of rows
(only with the number of distinct strings, which openpyxl keeps in the shared-strings table).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

from admin_customisations.importing.files import plain_decimal

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_CSV_BATCH = 500  # rows encoded per write()


def neutralise(value):
    """Prefix ``'`` to text that a spreadsheet would run as a formula; other values as given."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _naive(value: dt.datetime) -> dt.datetime:
    if timezone.is_aware(value):
        value = value.astimezone(timezone.get_default_timezone())
    return value.replace(tzinfo=None)


def csv_text(value) -> str:
    """One cell as CSV text (see the module docstring)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        return plain_decimal(value)
    if isinstance(value, float):
        return plain_decimal(Decimal(repr(value))) if value == value else ""
    if isinstance(value, dt.datetime):
        value = _naive(value)
        return value.isoformat(sep=" ", timespec="microseconds" if value.microsecond else "seconds")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return neutralise(str(value))


def xlsx_value(value):
    """One cell as the typed value openpyxl writes (see the module docstring)."""
    if value is None or isinstance(value, bool | int | dt.date | dt.time):
        if isinstance(value, dt.datetime):
            return _naive(value)
        return value
    if isinstance(value, Decimal):
        if value.is_nan() or value.is_infinite():
            return None
        return Decimal(plain_decimal(value))
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else None
    text = str(value)
    # XML cannot carry most control characters; show them as U+FFFD instead of failing
    text = ILLEGAL_CHARACTERS_RE.sub("\ufffd", text)
    return neutralise(text)


def iter_csv(headers: Iterable, rows: Iterable[Iterable]) -> Iterator[bytes]:
    """The CSV file as byte chunks (BOM first), for streaming responses."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)  # excel dialect: comma, quotes as needed, CRLF
    writer.writerow([neutralise(str(header)) for header in headers])
    yield codecs.BOM_UTF8 + buffer.getvalue().encode("utf-8")
    buffer.seek(0)
    buffer.truncate()
    pending = 0
    for row in rows:
        writer.writerow([csv_text(value) for value in row])
        pending += 1
        if pending == _CSV_BATCH:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    if pending:
        yield buffer.getvalue().encode("utf-8")


def write_csv(headers: Iterable, rows: Iterable[Iterable], fileobj) -> int:
    """Write a UTF-8 (BOM) CSV to a binary file object; return the number of data rows."""
    counter = _Counter(rows)
    for chunk in iter_csv(headers, counter):
        fileobj.write(chunk)
    return counter.count


def write_xlsx(headers: Iterable, rows: Iterable[Iterable], fileobj, *, title="Export") -> int:
    """Write a one-sheet XLSX to a binary file object; return the number of data rows."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31] or "Export")
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header_cells = []
    for header in headers:
        cell = WriteOnlyCell(sheet, value=xlsx_value(str(header)))
        cell.font = bold
        header_cells.append(cell)
    sheet.append(header_cells)
    count = 0
    for row in rows:
        sheet.append([xlsx_value(value) for value in row])
        count += 1
    workbook.save(fileobj)
    return count


class _Counter:
    def __init__(self, rows: Iterable):
        self._rows = rows
        self.count = 0

    def __iter__(self):
        for row in self._rows:
            self.count += 1
            yield row


@dataclass(frozen=True)
class ExportFormat:
    """A download format: ``EXPORT_FORMATS[key].write(headers, rows, fileobj)``."""

    key: str
    label: str
    extension: str
    content_type: str
    write: Callable[[Iterable, Iterable, object], int]

    def __getitem__(self, name: str):  # EXPORT_FORMATS["csv"]["content_type"] works too
        return getattr(self, name)


EXPORT_FORMATS: dict[str, ExportFormat] = {
    "csv": ExportFormat(
        key="csv",
        label="CSV (UTF-8)",
        extension="csv",
        content_type="text/csv; charset=utf-8",
        write=write_csv,
    ),
    "xlsx": ExportFormat(
        key="xlsx",
        label="Excel workbook (.xlsx)",
        extension="xlsx",
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        write=write_xlsx,
    ),
}
