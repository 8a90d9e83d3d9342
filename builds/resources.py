"""Spreadsheet resource for BOM lines (docs/importing.md, "BOM lines").

Two shapes of file, told apart by their headers (``for_headers``):

- one row per line: assembly, sub-part, quantity, references, flags, substitutes;
- one row per designator, as EDA tools export a BOM (a **Designator** column): rows of the
  same assembly and sub-part are grouped into one line (quantity = number of designators,
  references in natural order), do-not-place rows become optional lines or are skipped
  (the form's option), and a missing sub-part can be created from the row.

Natural key: assembly + sub-part + optional (a component appears at most once as a required
and once as an optional line). Rows are written through ``builds.services.bom_import``
(the BOM rules of ``builds.services.bom``, checked once per assembly): locked assemblies
and recursion are refused with the reason, and nothing is imported.
"""

from __future__ import annotations

import re
from collections import defaultdict

from django import forms
from django.core.exceptions import ValidationError
from unfold.widgets import UnfoldAdminRadioSelectWidget, UnfoldBooleanSwitchWidget

from admin_customisations.importing.keys import lookup, manufacturer_parts, norm, part_key, resolve
from admin_customisations.importing.resource import (
    NEW,
    UNCHANGED,
    UPDATE,
    CellError,
    CellValueError,
    Column,
    RowErrors,
    RowResult,
    SheetResource,
    boolean_column,
    decimal_column,
    register,
    text_column,
)
from builds.models import BomItem, BomItemSubstitute
from builds.selectors.bom_graph import find_bom_recursion
from inventory.models import Part

ASSEMBLY, SUB_PART, QUANTITY, REFERENCES = "Assembly IPN", "Sub-part IPN", "Quantity", "References"
OPTIONAL, SUBSTITUTES = "Optional", "Substitutes"
DESIGNATOR, MANUFACTURER, MPN, DESCRIPTION, DNP = (
    "Designator",
    "Manufacturer",
    "MPN",
    "Description",
    "DNP",
)

# ---------------------------------------------------------------- designators

EDA_EXTRA_COLUMNS = ("Value", "Footprint", "Package", "Comment", "Datasheet", "Quantity")

_SPLIT = re.compile(r"[\s,;]+")
_NUMBERS = re.compile(r"(\d+)")
DNP_WORDS = {"1", "true", "yes", "y", "x", "dnp", "dnf", "nf", "do not place", "not fitted"}
PLACE_WORDS = {"", "0", "false", "no", "n", "fitted"}


def natural_key(reference: str) -> list:
    """Sort key putting R2 before R10 (digit runs compared as numbers, case ignored)."""
    return [int(p) if p.isdigit() else p for p in _NUMBERS.split(reference.upper())]


def split_designators(text: str) -> list[str]:
    """``"R1, R2 R3;R4"`` → ``["R1", "R2", "R3", "R4"]`` (a cell may list several)."""
    return [d for d in _SPLIT.split(text or "") if d]


def join_designators(designators) -> str:
    """The designators in natural order, joined with ", " (R1, R2, R10)."""
    return ", ".join(sorted(designators, key=natural_key))


def parse_dnp(text: str) -> bool | None:
    """True for a do-not-place flag, False for placed, None when not understood."""
    value = " ".join((text or "").split()).lower()
    if value in DNP_WORDS:
        return True
    if value in PLACE_WORDS:
        return False
    return None


def rows_text(numbers) -> str:
    numbers = sorted(set(numbers))
    if len(numbers) == 1:
        return f"row {numbers[0]}"
    return "rows " + ", ".join(str(n) for n in numbers)


# ---------------------------------------------------------------- options


class BomImportOptions(forms.Form):
    """The BOM import's own options on the upload form (values in ``ctx.options``)."""

    dnp = forms.ChoiceField(
        label="Do-not-place rows",
        choices=[
            ("optional", "Import them as optional lines"),
            ("skip", "Skip them"),
        ],
        initial="optional",
        required=False,
        widget=UnfoldAdminRadioSelectWidget,
        help_text="Files with one row per designator: what to do with rows flagged DNP.",
    )
    create_missing = forms.BooleanField(
        label="Create missing sub-parts",
        required=False,
        widget=UnfoldBooleanSwitchWidget,
        help_text="A sub-part that does not exist is created from the row (IPN, description, "
        "manufacturer + MPN). Otherwise such a row is an error.",
    )


# ---------------------------------------------------------------- the resource


def _substitute_keys(item) -> list[str]:
    """The line's substitutes as sorted part keys (loaded in bulk by ``attach_substitutes``)."""
    keys = getattr(item, "_substitute_keys", None)
    if keys is None:
        keys = sorted(part_key(s.part) for s in item.substitutes.select_related("part"))
    return keys


def _substitutes_text(item) -> str:
    return ", ".join(_substitute_keys(item))


def attach_substitutes(items) -> None:
    """Set ``_substitute_keys`` on each line: one query for all of them (no per-line
    prefetch managers, which cost ~0.4 ms a line)."""
    by_line = defaultdict(list)
    ids = [item.pk for item in items if item.pk]
    for start in range(0, len(ids), 5000):
        rows = BomItemSubstitute.objects.filter(bom_item_id__in=ids[start : start + 5000])
        for line_id, ipn, name in rows.values_list("bom_item_id", "part__ipn", "part__name"):
            by_line[line_id].append(ipn or name)
    for item in items:
        item._substitute_keys = sorted(by_line.get(item.pk, ()))


@register
class BomLineResource(SheetResource):
    model = BomItem
    name = "bom_lines"
    title = "BOM lines"
    permission = "change"
    description = (
        "One row per BOM line, or one row per designator as EDA tools export a BOM (a "
        "Designator column): rows of the same sub-part become one line, quantity = number "
        "of designators."
    )
    options_form = BomImportOptions
    key_columns = (ASSEMBLY, SUB_PART, OPTIONAL)
    columns = [
        Column(
            ASSEMBLY,
            "part",
            reference="part",
            required=True,
            natural_key=True,
            render=lambda item: part_key(item.part),
            help="The assembly's IPN (a part without IPN: its name).",
            example="SA-0001",
        ),
        Column(
            SUB_PART,
            "sub_part",
            reference="part",
            required=True,
            natural_key=True,
            render=lambda item: part_key(item.sub_part),
            help="The component's IPN.",
            example="R-0028",
        ),
        decimal_column(QUANTITY, "quantity", required=True, help="Per assembly, above 0."),
        Column(REFERENCES, "reference", help="Reference designators, e.g. R1, R2, R5-R9."),
        boolean_column(OPTIONAL, "optional", natural_key=True, help="TRUE/FALSE (blank: FALSE)."),
        boolean_column("Consumable", "consumable", help="Not tracked in builds (glue, solder)."),
        boolean_column("Allow variants", "allow_variants", help="Variants' stock may be used."),
        boolean_column("Inherited", "inherited", help="Also applies to the assembly's variants."),
        text_column("Overage", "overage", BomItem, help="A quantity (2) or a percentage (5%)."),
        text_column("Note", "note", BomItem),
        Column(
            SUBSTITUTES,
            None,
            render=_substitutes_text,
            help="IPNs of parts that may be used instead, separated by commas (replaces the "
            "line's substitutes; blank: none).",
        ),
    ]

    # ------------------------------------------------------------ shape
    def for_headers(self, headers) -> SheetResource:
        """The resource for a file with these headers (a Designator column: per designator)."""
        if any(norm(h) in {"designator", "designators"} for h in headers):
            return BomDesignatorResource()
        return self

    # ------------------------------------------------------------ permissions
    def may_import(self, user) -> bool:
        from admin_customisations.permissions import user_may

        return super().may_import(user) and user_may(user, "view", model=Part)

    # ------------------------------------------------------------ export
    def queryset(self, user=None):
        return BomItem.objects.select_related("part", "sub_part").order_by(
            "part__ipn", "part__name", "sub_part__ipn", "sub_part__name", "pk"
        )

    def export_rows(self, queryset, columns=None, chunk_size=2000):
        """Rows in chunks; each chunk's substitutes in one query."""
        chunk = []
        for obj in queryset.iterator(chunk_size=chunk_size):
            chunk.append(obj)
            if len(chunk) == chunk_size:
                yield from self._rows(chunk, columns)
                chunk = []
        yield from self._rows(chunk, columns)

    def _rows(self, chunk, columns):
        attach_substitutes(chunk)
        for obj in chunk:
            yield self.export_row(obj, columns)

    # ------------------------------------------------------------ keys
    def row_key(self, row: dict) -> tuple | None:
        assembly = norm(row.get(ASSEMBLY, ""))
        sub_part = norm(row.get(SUB_PART, ""))
        if not sub_part and row.get("_mpn"):
            sub_part = f"{norm(row.get('_manufacturer', ''))} / {norm(row['_mpn'])}"
        if not (assembly or sub_part):
            return None
        return (assembly, sub_part, self._optional(row))

    def key_text(self, row: dict) -> str:
        sub_part = row.get(SUB_PART, "").strip() or (
            f"{row.get('_manufacturer', '').strip()} {row.get('_mpn', '').strip()}".strip()
        )
        text = f"Assembly '{row.get(ASSEMBLY, '').strip()}', sub-part '{sub_part}'"
        if self._optional(row):
            text += " (optional)"
        return text

    @staticmethod
    def _optional(row) -> bool:
        return norm(row.get(OPTIONAL, "")) in {"1", "true", "yes", "y", "on", "x"}

    # ------------------------------------------------------------ prepare
    def prepare(self, rows, *, ctx) -> None:
        pairs = {(r.get("_manufacturer", ""), r["_mpn"]) for _, r in rows if r.get("_mpn")}
        ctx.state["by_mpn"] = manufacturer_parts(pairs)
        if pairs:
            resolve(ctx.lookups, "manufacturer", {m for m, _ in pairs})
        substitutes = {s for _, row in rows for s in self._substitute_keys(row)}
        resolve(ctx.lookups, "part", substitutes)
        # assemblies and sub-parts by IPN (one query), then the existing lines
        super().prepare(rows, ctx=ctx)

    @staticmethod
    def _substitute_keys(row) -> list[str]:
        return [s.strip() for s in row.get(SUBSTITUTES, "").split(",") if s.strip()]

    def find_existing(self, rows, *, ctx) -> dict:
        """The existing lines of the chunk's assemblies, by (assembly, sub-part, optional)."""
        parts = {}  # the chunk's parts by id: lines share these instances (no per-line copies)
        assemblies, sub_parts = set(), set()
        for _, row in rows:
            assembly = ctx.lookups.get("part", row.get(ASSEMBLY, ""))
            sub_part = ctx.lookups.get("part", row.get(SUB_PART, ""))
            if assembly is not None and assembly.pk:
                assemblies.add(assembly.pk)
                parts[assembly.pk] = assembly
            if sub_part is not None and sub_part.pk:
                sub_parts.add(sub_part.pk)
                parts[sub_part.pk] = sub_part
        for mp in ctx.state.get("by_mpn", {}).values():
            sub_parts.add(mp.part_id)
            parts[mp.part_id] = mp.part
        lines = defaultdict(list)
        if assemblies and sub_parts:
            found = list(BomItem.objects.filter(part_id__in=assemblies, sub_part_id__in=sub_parts))
            attach_substitutes(found)
            for item in found:
                item.part, item.sub_part = parts[item.part_id], parts[item.sub_part_id]
                lines[(item.part_id, item.sub_part_id, item.optional)].append(item)
        ctx.state["lines"] = lines
        return {}

    # ------------------------------------------------------------ build
    def build(self, row: dict, *, number: int = 0, ctx) -> RowResult:
        ctx.state["row"] = row
        result = RowResult(number)
        result.key = self.row_key(row)
        result.key_text = self.key_text(row)
        for column, message in row.get("_errors", ()):
            result.error(column, message)
        if result.errors:
            return result
        assembly = self._part(ASSEMBLY, row, ctx=ctx, result=result)
        sub_part = self._sub_part(row, ctx=ctx, result=result)
        if result.errors:
            return result
        optional = self._optional(row)
        existing = None
        if assembly.pk and sub_part.pk:
            matches = ctx.state["lines"].get((assembly.pk, sub_part.pk, optional), [])
            if len(matches) > 1:
                result.error(
                    SUB_PART,
                    f"'{assembly}' has {len(matches)} {'optional ' if optional else ''}lines for "
                    f"'{sub_part}': this row cannot tell which one it means. Merge them in the "
                    "admin first.",
                )
                return result
            existing = matches[0] if matches else None
        # the generic cell handling (widgets, lengths, changes) on the line itself
        ctx.state["existing"] = {result.key: existing} if existing else {}
        ctx.state["resolved"] = {ASSEMBLY: assembly, SUB_PART: sub_part}
        base = super().build(row, number=number, ctx=ctx)
        base.key, base.key_text = result.key, result.key_text
        if base.is_error:
            return base
        item = base.instance
        item.part, item.sub_part = assembly, sub_part
        base.extra["assembly"] = assembly
        substitutes = self._substitutes(row, item, ctx=ctx, result=base)
        if base.is_error:
            return base
        if base.action == UNCHANGED and base.changes:
            base.action = UPDATE
        if base.action in (NEW, UPDATE):
            self._check_assembly(assembly, item, existing, result=base)
        if substitutes is not None:
            base.extra["substitutes"] = substitutes
        return base

    def new_instance(self, row, *, ctx):
        resolved = ctx.state["resolved"]
        return BomItem(part=resolved[ASSEMBLY], sub_part=resolved[SUB_PART])

    def clean_reference(self, col, text, *, ctx, result):
        return ctx.state["resolved"][col.header]  # resolved by build() (IPN, MPN or planned)

    def _part(self, header, row, *, ctx, result):
        text = row.get(header, "").strip()
        if not text:
            result.error(header, "This column is required.")
            return None
        try:
            return lookup(ctx.lookups, "part", text)
        except CellValueError as error:
            result.error(header, str(error))
            return None

    def _sub_part(self, row, *, ctx, result):
        """The component: by IPN, else by manufacturer + MPN; created (planned) if allowed."""
        text = row.get(SUB_PART, "").strip()
        mpn = row.get("_mpn", "").strip()
        manufacturer = row.get("_manufacturer", "").strip()
        if text:
            part = ctx.lookups.get("part", text)
            if part is None and not ctx.lookups.missing.get("part", set()) & {norm(text)}:
                resolve(ctx.lookups, "part", [text])
                part = ctx.lookups.get("part", text)
            if part is not None:
                return part
        elif mpn:
            found = ctx.state.get("by_mpn", {}).get((norm(manufacturer), norm(mpn)))
            if found is not None:
                return found.part
        else:
            result.error(SUB_PART, "This column is required.")
            return None
        if ctx.options.get("create_missing"):
            return self._plan_part(text, row, ctx=ctx, result=result)
        if text:
            try:
                lookup(ctx.lookups, "part", text)
            except CellValueError as error:
                result.error(
                    SUB_PART,
                    f"{error} Tick 'Create missing sub-parts' to create it from the row.",
                )
        else:
            result.error(
                MPN,
                f"No part has the manufacturer part '{manufacturer} {mpn}'. Give the sub-part's "
                "IPN, or tick 'Create missing sub-parts' to create it from the row.",
            )
        return None

    def _plan_part(self, ipn, row, *, ctx, result):
        """A new component from the row (saved at commit), shared by the file's later rows."""
        mpn = row.get("_mpn", "").strip()
        manufacturer_name = row.get("_manufacturer", "").strip()
        planned = ctx.state.setdefault("planned_parts", {})
        key = norm(ipn) if ipn else f"{norm(manufacturer_name)} / {norm(mpn)}"
        if key in planned:
            return planned[key]
        from admin_customisations.permissions import user_may
        from orders.models import Company, ManufacturerPart

        if not user_may(ctx.user, "add", model=Part):
            result.error(
                SUB_PART,
                "You may not create parts, so 'Create missing sub-parts' cannot create this "
                "one: ask someone who may, or import the part first.",
            )
            return None
        manufacturer = None
        if mpn:
            if not manufacturer_name:
                result.error(MANUFACTURER, f"Give the manufacturer of '{mpn}'.")
                return None
            if not (
                user_may(ctx.user, "view", model=Company)
                and user_may(ctx.user, "add", model=ManufacturerPart)
            ):
                result.error(
                    MPN,
                    "You may not create manufacturer parts (or see companies): give the "
                    "sub-part's IPN without Manufacturer and MPN.",
                )
                return None
            try:
                manufacturer = lookup(ctx.lookups, "manufacturer", manufacturer_name)
            except CellValueError as error:
                result.error(MANUFACTURER, f"{error} (Manufacturers must exist.)")
                return None
        part = Part(
            ipn=ipn,
            name=(ipn or mpn)[:100],
            description=row.get("_description", "").strip(),
            component=True,
            purchaseable=True,
            created_by=ctx.user if getattr(ctx.user, "pk", None) else None,
        )
        try:
            part.full_clean(
                exclude=["category", "variant_of", "revision_of"], validate_unique=False
            )
        except ValidationError as error:
            column = {"ipn": SUB_PART, "name": SUB_PART, "description": DESCRIPTION}
            for name, messages in getattr(error, "message_dict", {"": error.messages}).items():
                result.error(column.get(name, SUB_PART), " ".join(messages))
            return None
        part._import_manufacturer = (manufacturer, mpn)
        planned[key] = part
        if ipn:
            ctx.lookups.plan("part", ipn, part)
        return part

    def _substitutes(self, row, item, *, ctx, result):
        """The substitutes column as parts (None when the file has no such column)."""
        if SUBSTITUTES not in ctx.headers:
            return None
        parts, seen = [], set()
        for text in self._substitute_keys(row):
            try:
                part = lookup(ctx.lookups, "part", text)
            except CellValueError as error:
                result.error(SUBSTITUTES, str(error))
                continue
            if part.pk in seen:
                continue
            seen.add(part.pk)
            if part.pk == item.sub_part.pk:
                result.error(
                    SUBSTITUTES, f"'{part}' is this line's own component: it cannot substitute it."
                )
            elif not part.component:
                result.error(
                    SUBSTITUTES, f"'{part}' is not a component, so it cannot be a substitute."
                )
            parts.append(part)
        if result.errors:
            return None
        old = _substitute_keys(item) if item.pk else []
        new = sorted(part_key(p) for p in parts)
        if old != new:
            result.changes[SUBSTITUTES] = (", ".join(old), ", ".join(new))
        return parts

    def _check_assembly(self, assembly, item, existing, *, result) -> None:
        from builds.services.bom import check_bom_unlocked

        try:
            check_bom_unlocked(
                assembly, inherited=item.inherited or bool(existing and existing.inherited)
            )
        except ValidationError as error:
            result.error(ASSEMBLY, " ".join(error.messages))

    # ------------------------------------------------------------ recursion, in bulk
    def check_chunk(self, results, *, ctx) -> None:
        self._check_same_line(results, ctx=ctx)
        self._check_recursion([r for r in results if not r.is_error], ctx=ctx)

    def _check_same_line(self, results, *, ctx) -> None:
        """Two rows naming the same line in different ways (IPN in one, manufacturer + MPN
        in the other) would add it twice: refused with both rows."""
        seen = ctx.state.setdefault("lines_seen", {})
        for result in results:
            item = result.instance
            sub_part = item.sub_part.pk or id(item.sub_part)
            first = seen.setdefault((item.part.pk, sub_part, item.optional), result.number)
            if first != result.number:
                result.error(
                    SUB_PART,
                    f"Rows {first} and {result.number} both mean the "
                    f"{'optional ' if item.optional else ''}line of '{item.sub_part}' in "
                    f"'{item.part}': give it once.",
                )

    def _check_recursion(self, results, *, ctx) -> None:
        """No line may make a BOM contain itself: one search per assembly of the chunk for
        all its new components and substitutes (lines of the same chunk included)."""
        by_assembly = defaultdict(list)
        for result in results:
            if result.action not in (NEW, UPDATE):
                continue
            item = result.instance
            parts = [item.sub_part] if not item.pk else []
            parts += result.extra.get("substitutes") or []
            parts = [p for p in parts if p.pk]
            if parts:
                by_assembly[item.part.pk].append((result, parts))
        # lines the file adds (this chunk and the ones before), for loops inside the file
        planned_edges = ctx.state.setdefault("planned_edges", defaultdict(set))
        for assembly_id, entries in by_assembly.items():
            for _, parts in entries:
                planned_edges[assembly_id].update(p.pk for p in parts)
        for assembly_id, entries in by_assembly.items():
            ids = [p.pk for _, parts in entries for p in parts]
            if find_bom_recursion(assembly_id, ids) is None and not self._file_loop(
                assembly_id, ids, planned_edges
            ):
                continue
            for result, parts in entries:  # find the rows that close a loop
                loop = find_bom_recursion(assembly_id, [p.pk for p in parts])
                if loop is not None or self._file_loop(
                    assembly_id, [p.pk for p in parts], planned_edges
                ):
                    result.error(SUB_PART, self._loop_message(result.instance.part, parts, loop))

    @staticmethod
    def _file_loop(assembly_id, ids, planned_edges) -> bool:
        """Whether the file's own new lines lead from ``ids`` back to the assembly."""
        seen, frontier = set(), set(ids)
        while frontier:
            if assembly_id in frontier:
                return True
            seen |= frontier
            frontier = {t for f in frontier for t in planned_edges.get(f, ())} - seen
        return False

    @staticmethod
    def _loop_message(assembly, parts, loop) -> str:
        from builds.services.bom import _loop_message

        if loop is not None:
            return _loop_message(assembly, loop)
        names = ", ".join(f"'{p}'" for p in parts)
        return (
            f"{names} cannot be used in the BOM of '{assembly}': other rows of this file make "
            f"{names} use '{assembly}', so the BOM would contain itself."
        )

    # ------------------------------------------------------------ commit
    def commit(self, results, *, ctx) -> None:
        from builds.services.bom_import import BomLineChange, BomLineError, bom_lines_import

        self._create_planned_parts(results, ctx=ctx)
        by_assembly = defaultdict(list)
        for result in results:
            item = result.instance
            item.sub_part = item.sub_part  # refresh sub_part_id of a part saved just now
            fields = sorted(
                {
                    self.column(h).attribute
                    for h in result.changes
                    if h != SUBSTITUTES and self.column(h).attribute
                }
            )
            by_assembly[item.part.pk].append(
                BomLineChange(
                    item=item,
                    substitutes=result.extra.get("substitutes"),
                    key=result.number,
                    fields=fields,
                )
            )
        for changes in by_assembly.values():
            try:
                bom_lines_import(
                    part=changes[0].item.part, changes=changes, user=ctx.user, reason=ctx.reason
                )
            except BomLineError as error:  # a rule the preview could not see (e.g. a loop
                # through lines of several chunks): the row and the reason, nothing written
                column = SUB_PART if "contain itself" in " ".join(error.messages) else ""
                raise RowErrors([CellError(error.key, column, " ".join(error.messages))]) from None
            except ValidationError as error:  # the assembly as a whole (locked meanwhile)
                raise RowErrors(
                    [CellError(changes[0].key, ASSEMBLY, " ".join(error.messages))]
                ) from None

    def _create_planned_parts(self, results, *, ctx) -> None:
        from builds.services.bom_import import bom_sub_part_create

        for result in results:
            part = result.instance.sub_part
            if part.pk is None:
                manufacturer, mpn = getattr(part, "_import_manufacturer", (None, ""))
                bom_sub_part_create(
                    part=part, user=ctx.user, reason=ctx.reason, manufacturer=manufacturer, mpn=mpn
                )


class BomDesignatorResource(BomLineResource):
    """The BOM import for files with one row per designator (see the module docstring)."""

    shape_columns = [
        BomLineResource.columns[0],
        Column(DESIGNATOR, None, required=True, help="One designator (R1) or several."),
        Column(SUB_PART, None, help="The component's IPN (or give Manufacturer and MPN)."),
        Column(MANUFACTURER, None, help="The component's manufacturer (with MPN)."),
        Column(MPN, None, help="The manufacturer part number."),
        Column(DESCRIPTION, None, help="Description of a sub-part created from the row."),
        Column(DNP, None, help="Do not place: DNP, yes, x, TRUE or 1 (blank: placed)."),
        # what EDA tools add besides: accepted and ignored
        *(Column(h, None, importable=False, help="Ignored.") for h in EDA_EXTRA_COLUMNS),
    ]

    def headers(self) -> list[str]:
        return [c.header for c in self.shape_columns]

    def required_headers(self) -> list[str]:
        return [ASSEMBLY, DESIGNATOR]

    def regroup_rows(self, rows, *, ctx):
        """Designator rows → one line per (assembly, sub-part, placed/DNP), in file order."""
        skip_dnp = ctx.options.get("dnp") == "skip"
        groups: dict[tuple, dict] = {}
        used: dict[tuple, int] = {}  # (assembly, designator) -> first row
        for number, row in rows:
            assembly = row.get(ASSEMBLY, "").strip()
            ipn = row.get(SUB_PART, "").strip()
            manufacturer = row.get(MANUFACTURER, "").strip()
            mpn = row.get(MPN, "").strip()
            dnp = parse_dnp(row.get(DNP, ""))
            errors = []
            if dnp is None:
                errors.append(
                    (
                        DNP,
                        f"'{row.get(DNP, '').strip()}' is not a do-not-place flag: use DNP, "
                        "yes or x (blank: placed).",
                    )
                )
                dnp = False
            if dnp and skip_dnp:
                continue
            designators = split_designators(row.get(DESIGNATOR, ""))
            if not designators:
                errors.append((DESIGNATOR, "This column is required."))
            if not ipn and not mpn:
                errors.append((SUB_PART, "Give the sub-part's IPN, or its Manufacturer and MPN."))
            for designator in designators:
                first = used.setdefault((norm(assembly), designator.upper()), number)
                if first != number:
                    errors.append(
                        (
                            DESIGNATOR,
                            f"{designator} appears twice for '{assembly}': rows {first} "
                            f"and {number}.",
                        )
                    )
            component = norm(ipn) if ipn else f"{norm(manufacturer)} / {norm(mpn)}"
            key = (norm(assembly), component, bool(dnp))
            group = groups.get(key)
            if group is None:
                group = groups[key] = {
                    "number": number,
                    "numbers": [],
                    "designators": [],
                    "errors": [],
                    "row": {
                        ASSEMBLY: assembly,
                        SUB_PART: ipn,
                        OPTIONAL: "TRUE" if dnp else "FALSE",
                        "_manufacturer": manufacturer,
                        "_mpn": mpn,
                        "_description": row.get(DESCRIPTION, "").strip(),
                    },
                }
            group["numbers"].append(number)
            group["designators"].extend(designators)
            group["errors"].extend(errors)
        ctx.headers = (ASSEMBLY, SUB_PART, QUANTITY, REFERENCES, OPTIONAL)
        for group in groups.values():
            line = dict(group["row"])
            line[QUANTITY] = str(len(group["designators"]) or 1)
            line[REFERENCES] = join_designators(group["designators"])
            line["_errors"] = group["errors"]
            line["_numbers"] = group["numbers"]
            yield group["number"], line

    def key_text(self, row: dict) -> str:
        text = super().key_text(row)
        numbers = row.get("_numbers")
        return f"{text} ({rows_text(numbers)})" if numbers and len(numbers) > 1 else text


__all__ = [
    "BomDesignatorResource",
    "BomImportOptions",
    "BomLineResource",
    "join_designators",
    "natural_key",
    "parse_dnp",
    "split_designators",
]
