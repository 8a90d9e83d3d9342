"""Spreadsheet resources for parts and stock (docs/importing.md has every column).

Natural keys only: categories and locations by path ("Electronics/Passives/Resistors"),
parts by IPN (else name + revision), parameter templates by name, part parameters by part
IPN + template name. Audit and derived fields (created by, BOM checked by/on, BOM
checksum, in stock, pathstring, level...) are never importable; "In stock" is exported for
reading and ignored on import.

Decisions (docs/decisions.md, "Spreadsheet import and export"):

- Categories and locations: the path is the key, so an import never moves a node (a
  different path is a different node). A new node's parent must exist already or be a
  row earlier in the same file; it is never created implicitly from a longer path.
- Stock items are created through ``stock_item_create`` (tracking entry, serial
  expressions, ownership, default location and expiry). A row whose serial number
  already exists for the part is that item: only its non-stock fields (batch, expiry,
  purchase price, currency, notes) are updated; a different quantity, location or status
  is refused (those change only through the stock actions, which write their timeline).
  A row without serial numbers whose values (part, location, quantity, batch, status,
  expiry, purchase price, currency, notes) equal a held item's without serial number is
  that item, unchanged; identical rows match identical items one each, so re-importing an
  export changes nothing. Any other row creates new stock.
"""

from __future__ import annotations

from collections import deque
from decimal import Decimal

from django.core.exceptions import ValidationError

from admin_customisations.importing.keys import (
    clean_path,
    lower_in,
    norm,
    norm_path,
    part_key,
    resolve,
)
from admin_customisations.importing.messages import field_error_messages
from admin_customisations.importing.resource import (
    NEW,
    SKIP,
    UNCHANGED,
    UPDATE,
    CellValueError,
    Column,
    RowErrors,
    RowResult,
    SheetResource,
    attach,
    boolean_column,
    choice_column,
    date_column,
    decimal_column,
    integer_column,
    load_instances,
    register,
    text_column,
)
from inventory.models import (
    Part,
    PartCategory,
    PartParameter,
    PartParameterTemplate,
    StockItem,
    StockLocation,
)
from inventory.models.parts import parse_number
from inventory.permissions import OwnershipRules


def _path(obj):
    return obj.pathstring if obj is not None else ""


# ---------------------------------------------------------------- trees


class TreeResource(SheetResource):
    """Categories and locations: one row per node, identified by its full path."""

    kind = ""  # keys.py look-up kind
    key_columns = ("Path",)
    always_validate = ("name",)  # the path's last level

    def column_for_field(self, name: str) -> str:
        if name in ("name", "parent", "pathstring"):
            return "Path"
        return super().column_for_field(name)

    def row_key(self, row):
        path = norm_path(row.get("Path", ""))
        return (path,) if path else None

    def key_text(self, row):
        return f"Path '{clean_path(row.get('Path', ''))}'"

    def queryset(self, user=None):
        return super().queryset(user).order_by("level", "pathstring")

    def find_existing(self, rows, *, ctx):
        paths = {row.get("Path", "") for _, row in rows} - {""}
        parents = {clean_path(p).rsplit("/", 1)[0] for p in paths if "/" in clean_path(p)}
        resolve(ctx.lookups, self.kind, paths | parents)
        found = ctx.lookups.found.get(self.kind, {})
        return {(norm_path(p),): found[norm_path(p)] for p in paths if norm_path(p) in found}

    def new_instance(self, row, *, ctx):
        """A new node: name and parent from the path (the parent must exist already or be
        a row earlier in this file)."""
        from admin_customisations.importing.keys import suggest

        obj = super().new_instance(row, ctx=ctx)
        path = clean_path(row.get("Path", ""))
        obj.name = path.rsplit("/", 1)[-1]
        obj.pathstring = path
        obj._import_error = ""
        if not obj.name:
            obj._import_error = "The path's last level is empty."
        elif "/" in path:
            parent_path = path.rsplit("/", 1)[0]
            parent = ctx.lookups.get(self.kind, parent_path)
            if parent is None:
                hint = suggest(ctx.lookups, self.kind, parent_path)
                obj._import_error = (
                    f"The parent '{parent_path}' does not exist and is not a row earlier in "
                    "this file; add it first" + (f" — did you mean '{hint}'?" if hint else ".")
                )
            else:
                obj.parent = parent
        return obj

    def build(self, row, *, number=0, ctx):
        result = super().build(row, number=number, ctx=ctx)
        if not result.is_error and result.action in (NEW, UPDATE):
            self.check_rules(result, ctx=ctx)
        if result.action == NEW:
            ctx.lookups.plan(self.kind, result.instance.pathstring, result.instance)
        return result

    def validate_instance(self, result, *, ctx):
        problem = getattr(result.instance, "_import_error", "")
        if problem:
            result.error("Path", problem)
            return
        super().validate_instance(result, ctx=ctx)

    def check_rules(self, result: RowResult, *, ctx) -> None:
        """Object rules per row (locations: ownership)."""

    def commit(self, results, *, ctx):
        from inventory.services.common import save_with_history

        for result in results:  # file order: parents before children
            obj = result.instance
            if obj.parent is not None and obj.parent_id is None:
                obj.parent = obj.parent  # the parent row was saved just before: take its id
            save_with_history(obj, user=ctx.user, reason=ctx.reason)


@register
class CategoryResource(TreeResource):
    model = PartCategory
    name = "categories"
    title = "Part categories"
    kind = "category"
    columns = [
        Column(
            "Path",
            "pathstring",
            required=True,
            natural_key=True,
            importable=False,
            help="Full path, levels separated by '/'. The parent must exist or be a row "
            "earlier in the file.",
            example="Electronics/Passives/Resistors",
        ),
        text_column("Description", "description", PartCategory, example="Fixed resistors"),
        boolean_column(
            "Structural", "structural", help="Only groups sub-categories; holds no parts."
        ),
        Column(
            "Default location",
            "default_location",
            reference="location",
            render=lambda c: _path(c.default_location),
            help="Location path where stock of its parts goes by default.",
        ),
        text_column(
            "Default keywords",
            "default_keywords",
            PartCategory,
            help="Keywords new parts start with.",
        ),
    ]
    select_related = ("default_location",)


@register
class LocationResource(TreeResource):
    model = StockLocation
    name = "locations"
    title = "Stock locations"
    kind = "location"
    columns = [
        Column(
            "Path",
            "pathstring",
            required=True,
            natural_key=True,
            importable=False,
            help="Full path, levels separated by '/'. The parent must exist or be a row "
            "earlier in the file.",
            example="Warehouse/Aisle 3/Shelf B",
        ),
        text_column("Description", "description", StockLocation),
        boolean_column("Structural", "structural", help="Only groups sub-locations."),
        boolean_column("External", "external", help="Held outside the company."),
        Column("Items stored", "items_stored", importable=False, help="Export only."),
    ]

    def check_rules(self, result, *, ctx):
        if ctx.rules is None:
            ctx.rules = OwnershipRules(ctx.user)
        rules = ctx.rules
        obj = result.instance
        target = obj if obj.pk else obj.parent
        while target is not None and not target.pk:  # a parent planned in this file
            target = target.parent
        if target is not None and not rules.may_change_path(target.tree_path):
            result.error(
                "Path",
                f"You do not own '{target.pathstring}' (or the owned location above it), "
                "so this import cannot change it or add locations below it.",
            )


# ---------------------------------------------------------------- parts


@register
class PartResource(SheetResource):
    model = Part
    name = "parts"
    key_columns = ("IPN", "Name", "Revision")
    select_related = ("category", "default_location", "variant_of")
    columns = [
        text_column(
            "IPN",
            "ipn",
            Part,
            natural_key=True,
            help="Internal part number: the key. Without one, the part is found by name "
            "and revision.",
            example="R-10K-0603",
        ),
        text_column("Name", "name", Part, required=True, example="Resistor 10k 0603"),
        text_column("Revision", "revision", Part, natural_key=True, example=""),
        text_column("Description", "description", Part),
        Column(
            "Category",
            "category",
            reference="category",
            render=lambda p: _path(p.category),
            help="Category path, e.g. Electronics/Passives/Resistors (must exist).",
        ),
        text_column("Keywords", "keywords", Part),
        text_column("Units", "units", Part, help="Unit of measure, e.g. pcs, m, kg."),
        decimal_column("Minimum stock", "minimum_stock"),
        Column(
            "Default location",
            "default_location",
            reference="location",
            render=lambda p: _path(p.default_location),
            help="Location path.",
        ),
        integer_column("Default expiry (days)", "default_expiry"),
        boolean_column("Template", "is_template", help="May have variants."),
        Column(
            "Variant of",
            "variant_of",
            reference="part",
            render=lambda p: part_key(p.variant_of),
            help="IPN of the template part this part is a variant of.",
        ),
        boolean_column("Assembly", "assembly"),
        boolean_column("Component", "component"),
        boolean_column("Trackable", "trackable"),
        boolean_column("Purchaseable", "purchaseable"),
        boolean_column("Salable", "salable"),
        boolean_column("Virtual", "virtual"),
        boolean_column("Active", "active"),
        boolean_column("Locked", "locked"),
        Column("Link", "link", max_length=200),
        Column("Notes", "notes"),
        decimal_column(
            "In stock", "in_stock_total", importable=False, help="Export only (ignored)."
        ),
    ]

    def row_key(self, row):
        ipn = norm(row.get("IPN", ""))
        if ipn:
            return ("ipn", ipn)
        name = norm(row.get("Name", ""))
        if not name:
            return None
        return ("name", name, norm(row.get("Revision", "")))

    def key_text(self, row):
        if row.get("IPN", "").strip():
            return f"IPN '{row['IPN'].strip()}'"
        revision = row.get("Revision", "").strip()
        text = f"Name '{row.get('Name', '').strip()}'"
        return text + (f" revision '{revision}'" if revision else "")

    def find_existing(self, rows, *, ctx):
        ipns = {norm(row.get("IPN", "")) for _, row in rows} - {""}
        names = {norm(row.get("Name", "")) for _, row in rows if not row.get("IPN", "").strip()} - {
            ""
        }
        found = {}
        loaded = []
        if ipns:
            loaded += lower_in(Part.objects.order_by(), "ipn", ipns, load=load_instances)
        if names:
            named = lower_in(
                Part.objects.filter(ipn="").order_by(), "name", names, load=load_instances
            )
            loaded += named
            found.update({("name", norm(p.name), norm(p.revision)): p for p in named})
        found.update({("ipn", norm(p.ipn)): p for p in loaded if p.ipn})
        # Part.clean reads the category: the (few) categories once per run, not per row
        categories = ctx.state.setdefault("categories", {})
        missing = {p.category_id for p in loaded} - set(categories) - {None}
        if missing:
            categories.update(PartCategory.objects.in_bulk(missing))
        attach(loaded, "category", categories)
        return found

    def adjust(self, col, value, *, row, result, ctx):
        if col.header == "Variant of" and value is not None and result.instance is not None:
            if value.pk and value.pk == result.instance.pk:
                raise CellValueError("A part cannot be a variant of itself.")
        return value


@register
class ParameterTemplateResource(SheetResource):
    model = PartParameterTemplate
    name = "parameter_templates"
    title = "Parameter templates"
    key_columns = ("Name",)
    columns = [
        text_column(
            "Name",
            "name",
            PartParameterTemplate,
            required=True,
            natural_key=True,
            example="Resistance",
        ),
        text_column("Units", "units", PartParameterTemplate, example="ohm"),
        text_column("Description", "description", PartParameterTemplate),
        boolean_column("Checkbox", "checkbox", help="Values are true/false."),
        text_column(
            "Choices", "choices", PartParameterTemplate, help="Comma-separated allowed values."
        ),
    ]

    def find_existing(self, rows, *, ctx):
        names = {norm(row.get("Name", "")) for _, row in rows} - {""}
        return {(norm(t.name),): t for t in lower_in(PartParameterTemplate.objects, "name", names)}


@register
class PartParameterResource(SheetResource):
    model = PartParameter
    name = "part_parameters"
    title = "Part parameters"
    key_columns = ("Part", "Parameter")
    select_related = ("part", "template")
    columns = [
        Column(
            "Part",
            "part",
            reference="part",
            required=True,
            render=lambda p: part_key(p.part),
            help="The part's IPN.",
            example="R-10K-0603",
        ),
        Column(
            "Parameter",
            "template",
            reference="template",
            required=True,
            render=lambda p: p.template.name,
            help="The parameter template's name (must exist).",
            example="Resistance",
        ),
        text_column("Value", "data", PartParameter, required=True, example="10k"),
    ]

    def find_existing(self, rows, *, ctx):
        parts = {ctx.lookups.get("part", row.get("Part", "")) for _, row in rows}
        templates = {ctx.lookups.get("template", row.get("Parameter", "")) for _, row in rows}
        parts.discard(None)
        templates.discard(None)
        if not parts or not templates:
            return {}
        qs = PartParameter.objects.select_related("part", "template").filter(
            part__in=parts, template__in=templates
        )
        return {(norm(part_key(p.part)), norm(p.template.name)): p for p in qs} | {
            (norm(p.part.name), norm(p.template.name)): p for p in qs if not p.part.ipn
        }

    def update_fields(self, updated) -> list[str]:
        return [*super().update_fields(updated), "data_numeric"]

    def commit(self, results, *, ctx):
        for result in results:  # bulk writes skip PartParameter.save(), which sets it
            result.instance.data_numeric = parse_number(result.instance.data)
        super().commit(results, ctx=ctx)


# ---------------------------------------------------------------- stock


STOCK_FIELDS = ("batch", "expiry_date", "purchase_price", "purchase_price_currency", "notes")
# what an exported row without serial number says about its item: a row with the same
# values is that item (re-importing an export changes nothing)
SAME_FIELDS = (
    "part_id",
    "location_id",
    "quantity",
    "batch",
    "status",
    "expiry_date",
    "purchase_price",
    "purchase_price_currency",
    "notes",
)


@register
class StockItemResource(SheetResource):
    """Stock through ``stock_item_create`` (see the module docstring for the rules)."""

    model = StockItem
    name = "stock_items"
    title = "Stock items"
    key_columns = ("Part", "Serial numbers")
    select_related = ("part", "location")
    columns = [
        Column(
            "Part",
            "part",
            reference="part",
            required=True,
            render=lambda i: part_key(i.part),
            help="The part's IPN.",
            example="R-10K-0603",
        ),
        Column(
            "Location",
            "location",
            reference="location",
            render=lambda i: _path(i.location),
            help="Location path; empty: the part's default location.",
            example="Warehouse/Aisle 3/Shelf B",
        ),
        decimal_column("Quantity", "quantity", required=True, example="100"),
        Column(
            "Serial numbers",
            "serial",
            max_length=1000,
            render=lambda i: i.serial,
            help="Serial number, or an expression for several items: 1-10, 15, 20+ (the "
            "part must be trackable; the quantity is the number of serials).",
        ),
        text_column("Batch", "batch", StockItem),
        choice_column("Status", "status", StockItem, help="OK, Damaged, Quarantined, ..."),
        date_column("Expiry date", "expiry_date", help="YYYY-MM-DD; empty: the part's default."),
        decimal_column("Purchase price", "purchase_price", help="Unit price."),
        text_column("Currency", "purchase_price_currency", StockItem, help="ISO code, e.g. EUR."),
        Column("Notes", "notes"),
    ]

    def queryset(self, user=None):
        return StockItem.objects.select_related("part", "location").order_by("pk")

    def _single_serial(self, text: str) -> str | None:
        text = text.strip()
        if not text or any(c in text for c in ",+~") or _is_range(text):
            return None
        return text

    def row_key(self, row):
        serial = self._single_serial(row.get("Serial numbers", ""))
        part = norm(row.get("Part", ""))
        if not part:
            return None
        return ("serial", part, serial) if serial else None  # no key: always new stock

    def key_text(self, row):
        return (
            f"Part '{row.get('Part', '').strip()}' serial '{row.get('Serial numbers', '').strip()}'"
        )

    def find_existing(self, rows, *, ctx):
        wanted = {}
        for _, row in rows:
            serial = self._single_serial(row.get("Serial numbers", ""))
            part = ctx.lookups.get("part", row.get("Part", ""))
            if serial and part is not None:
                wanted[(part.pk, serial)] = (norm(row.get("Part", "")), serial)
        self._find_unserialized(rows, ctx=ctx)
        if not wanted:
            return {}
        qs = StockItem.objects.select_related("part", "location").filter(
            part_id__in={p for p, _ in wanted}, serial__in={s for _, s in wanted}
        )
        out = {}
        for item in qs:
            key = wanted.get((item.part_id, item.serial))
            if key:
                out[("serial", *key)] = item
        return out

    def _find_unserialized(self, rows, *, ctx) -> None:
        """The held items without serial number that the chunk's rows without serial number
        may mean (one query per chunk): ``ctx.state["same"]`` = {values: [item ids]}, oldest
        first, minus the items earlier rows already matched and the items this run created."""
        parts, quantities = set(), set()
        column = self.column("Quantity")
        for _, row in rows:
            if (row.get("Serial numbers") or "").strip():
                continue
            part = ctx.lookups.get("part", row.get("Part", ""))
            try:
                quantity = column.clean(row.get("Quantity") or "")
            except CellValueError:
                continue
            if part is not None and isinstance(quantity, Decimal) and quantity.is_finite():
                parts.add(part.pk)
                quantities.add(quantity)
        same: dict = {}
        ctx.state["same"] = same
        if not parts:
            return
        claimed = ctx.state["claimed"]
        items = (
            StockItem.objects.held()
            .filter(
                part_id__in=parts,
                quantity__in=[q for q in quantities if abs(q) < 10**10],
                serial="",
                pk__lte=ctx.state["last_item"],
            )
            .order_by("pk")
            .values_list("pk", *SAME_FIELDS)
        )
        for pk, *values in items:
            if pk not in claimed:
                same.setdefault(tuple(values), deque()).append(pk)

    def _match_unserialized(self, result, values, *, ctx) -> bool:
        """A row without serial number whose values equal a held item's is that item
        (unchanged); identical rows match identical items one each (a multiset)."""
        part = values["Part"]
        quantity = values.get("Quantity")
        if quantity is None or not quantity.is_finite():
            return False
        status = values.get("Status")
        rest = (
            quantity,
            values.get("Batch") or "",
            status if status is not None else StockItem._meta.get_field("status").default,
            values.get("Expiry date"),
            values.get("Purchase price"),
            values.get("Currency") or "",
            values.get("Notes") or "",
        )
        location = values.get("Location")
        places = [location.pk] if location is not None else [None]
        if location is None:  # blank: the part's default location (once per part and run)
            defaults = ctx.state.setdefault("default_locations", {})
            if part.pk not in defaults:
                default = part.get_default_location()
                defaults[part.pk] = default.pk if default is not None else None
            if defaults[part.pk] is not None:
                places.append(defaults[part.pk])
        same = ctx.state.get("same", {})
        for place in places:
            pks = same.get((part.pk, place, *rest))
            if pks:
                pk = pks.popleft()
                ctx.state["claimed"].add(pk)
                result.action = UNCHANGED
                result.extra["item"] = pk
                return True
        return False

    def start(self, *, ctx):
        ctx.rules = OwnershipRules(ctx.user)
        ctx.state["serials"] = {}  # (family root id, serial) -> row number
        ctx.state["families"] = {}  # part id -> family part ids
        ctx.state["claimed"] = set()  # ids of items matched by rows without serial number
        # items created by this run (the commit writes chunk by chunk) are never matched
        ctx.state["last_item"] = (
            StockItem.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        )

    def build(self, row, *, number=0, ctx):
        result = RowResult(number)
        result.key = self.row_key(row)
        result.key_text = self.key_text(row)
        values = {}
        for col in self.importable_columns(ctx.headers):
            raw = row.get(col.header, "")
            try:
                if col.reference:
                    values[col.header] = self.clean_reference(
                        col, raw.strip(), ctx=ctx, result=result
                    )
                else:
                    values[col.header] = col.clean(raw, result=result, ctx=ctx)
            except CellValueError as error:
                result.error(col.header, str(error))
        if result.is_error:
            return result
        result.values = values
        existing = ctx.state.get("existing", {}).get(result.key)
        if existing is not None:
            return self._build_update(result, existing, values, ctx=ctx)
        if not (values.get("Serial numbers") or "").strip():
            if self._match_unserialized(result, values, ctx=ctx):
                return result
        return self._build_new(result, values, ctx=ctx)

    def _build_update(self, result, item, values, *, ctx):
        result.action = UPDATE
        result.instance = item
        refused = []
        quantity = values.get("Quantity")
        if quantity is not None and quantity != item.quantity:
            refused.append("quantity")
        if "Location" in values and values["Location"] is not None:
            if values["Location"].pk != item.location_id:
                refused.append("location")
        if values.get("Status") is not None and values["Status"] != item.status:
            refused.append("status")
        if refused:
            result.error(
                "Serial numbers",
                f"Stock item {item} exists already; its {', '.join(refused)} can only change "
                "through the stock actions (move, count, change status), not by import.",
            )
            return result
        if not ctx.rules.may_change_path(item.location.tree_path if item.location_id else None):
            result.error(
                "Location",
                f"You do not own '{item.location.pathstring}' (or the owned location above "
                "it), so this import cannot change stock in it.",
            )
            return result
        by_attr = {c.attribute: c for c in self.columns}
        for attr in STOCK_FIELDS:
            col = by_attr[attr]
            if col.header not in values:
                continue
            value = self.default_for_empty(col, values[col.header])
            old = getattr(item, attr)
            if old != value:
                setattr(item, attr, value)
                result.changes[col.header] = (col.show(old), col.show(value))
        if not result.changes:
            result.action = UNCHANGED
            return result
        self.validate_instance(result, ctx=ctx)
        return result

    def _build_new(self, result, values, *, ctx):
        from inventory.services.common import to_quantity
        from inventory.services.serials import parse_serials

        result.action = NEW
        part = values["Part"]
        location = values.get("Location") or part.get_default_location()
        status = values.get("Status")
        serials = (values.get("Serial numbers") or "").strip()
        try:
            quantity = to_quantity(values["Quantity"] if values["Quantity"] is not None else "")
        except ValidationError as error:
            result.error("Quantity", " ".join(error.messages))
            return result
        if part.virtual:
            result.error("Part", f"'{part}' is virtual: it cannot hold stock.")
        elif not part.active:
            result.error("Part", f"'{part}' is inactive: reactivate it before adding stock.")
        if location is not None and location.structural:
            result.error(
                "Location", f"'{location}' is structural: choose one of its sub-locations."
            )
        elif location is not None and not ctx.rules.may_change_path(location.tree_path):
            result.error(
                "Location",
                f"You do not own '{location.pathstring}' (or the owned location above it), "
                "so this import cannot add stock to it.",
            )
        if serials:
            if not part.trackable:
                result.error(
                    "Serial numbers",
                    f"'{part}' is not trackable, so its stock cannot have serial numbers.",
                )
            elif quantity != int(quantity):
                result.error("Quantity", "Serialized stock needs a whole-number quantity.")
            else:
                try:
                    next_serial = self._next_serial(part) if "~" in serials else 1
                    serial_list = parse_serials(serials, int(quantity), next_serial=next_serial)
                except ValidationError as error:
                    result.error("Serial numbers", " ".join(error.messages))
                else:
                    result.extra["serials"] = serial_list
        elif part.trackable and quantity != int(quantity):
            result.error("Quantity", f"'{part}' is trackable: use a whole number.")
        if result.is_error:
            return result
        item = StockItem(
            part=part,
            location=location,
            quantity=1 if serials else quantity,
            status=status if status is not None else StockItem._meta.get_field("status").default,
            batch=values.get("Batch") or "",
            expiry_date=values.get("Expiry date"),
            purchase_price=values.get("Purchase price"),
            purchase_price_currency=values.get("Currency") or "",
            notes=values.get("Notes") or "",
        )
        result.instance = item
        result.extra["quantity"] = quantity
        self.validate_instance(result, ctx=ctx)
        return result

    def _next_serial(self, part) -> int:
        from inventory.services.stock import _next_serial_number

        return _next_serial_number(part)

    def _family(self, part, ctx) -> list[int]:
        from inventory.models.stock import variant_family_part_ids

        families = ctx.state.setdefault("families", {})
        if part.pk not in families:
            families[part.pk] = variant_family_part_ids(part)
        return families[part.pk]

    def check_chunk(self, results, *, ctx):
        """Serial numbers: unused in the part's variant family (one query per chunk) and
        not repeated inside the file (both row numbers)."""
        seen = ctx.state.setdefault("serials", {})
        wanted = []
        for result in results:
            for serial in result.extra.get("serials", ()):
                family = tuple(self._family(result.instance.part, ctx))
                wanted.append((result, family, serial))
        if not wanted:
            return
        part_ids = {pk for _, family, _ in wanted for pk in family}
        serials = {s for _, _, s in wanted}
        taken = set(
            StockItem.objects.filter(part_id__in=part_ids, serial__in=serials).values_list(
                "part_id", "serial"
            )
        )
        reported = set()
        for result, family, serial in wanted:
            root = family[0]
            if any((pk, serial) in taken for pk in family):
                if result.number not in reported:
                    used = [
                        s for s in result.extra["serials"] if any((pk, s) in taken for pk in family)
                    ]
                    shown = ", ".join(used[:10]) + (" …" if len(used) > 10 else "")
                    result.error(
                        "Serial numbers",
                        f"Serial numbers already in use for '{result.instance.part.variant_family()}': {shown}.",
                    )
                    reported.add(result.number)
                continue
            first = seen.get((root, serial))
            if first is not None and first != result.number:
                if result.number not in reported:
                    result.error(
                        "Serial numbers",
                        f"Serial number {serial} appears twice in the file: rows {first} and "
                        f"{result.number}.",
                    )
                    reported.add(result.number)
                continue
            seen[(root, serial)] = result.number

    def validate_instance(self, result, *, ctx):
        item = result.instance
        serial, item.serial = item.serial, ""  # serials are checked in bulk (check_chunk)
        try:
            item.full_clean(
                exclude=self.clean_exclude(), validate_unique=False, validate_constraints=False
            )
        except ValidationError as error:
            for column, message in field_error_messages(error, self.column_for_field):
                result.error(column, message)
        finally:
            item.serial = serial

    def commit(self, results, *, ctx):
        from inventory.figures import deferred_refresh
        from inventory.services.common import save_with_history
        from inventory.services.stock import stock_item_create

        errors = []
        with deferred_refresh():
            for result in results:
                item = result.instance
                if result.action == UPDATE:
                    save_with_history(item, user=ctx.user, reason=ctx.reason)
                    continue
                try:
                    stock_item_create(
                        part=item.part,
                        quantity=result.extra["quantity"],
                        user=ctx.user,
                        location=item.location,
                        serials=",".join(result.extra.get("serials", ())),
                        batch=item.batch,
                        status=item.status,
                        expiry_date=item.expiry_date,
                        purchase_price=item.purchase_price,
                        purchase_price_currency=item.purchase_price_currency,
                        notes=item.notes,
                    )
                except ValidationError as error:
                    for column, message in field_error_messages(error, self._service_column):
                        from admin_customisations.importing.resource import CellError

                        errors.append(CellError(result.number, column, message))
        if errors:
            raise RowErrors(errors)

    def _service_column(self, name: str) -> str:
        return {"serials": "Serial numbers"}.get(name) or self.column_for_field(name)


def _is_range(text: str) -> bool:
    from inventory.services.serials import _RANGE

    return bool(_RANGE.match(text))


__all__ = [
    "CategoryResource",
    "LocationResource",
    "ParameterTemplateResource",
    "PartParameterResource",
    "PartResource",
    "StockItemResource",
    "SKIP",
]
