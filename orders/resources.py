"""Spreadsheet resources for companies, sourcing and order lines (docs/importing.md).

Natural keys only: companies by name, contacts by company + name, addresses by company +
title, manufacturer parts by manufacturer + MPN (+ our part: the same MPN may be linked to
several of our parts), supplier parts by supplier + SKU (+ our part, likewise), price breaks
by supplier + SKU + quantity, order lines by order reference + supplier part (or part) +
the line's own reference. Audit and derived fields (received, shipped, created) are never
importable.

Rows go through the order services' rules: the sourcing checks (supplier / manufacturer
flags, purchaseable parts, pack quantities), one primary address per company
(``address_save``), and order lines only while their order is open and only by the people
responsible for it (``purchase_order_add_line``, ``sales_order_add_line`` /
``sales_order_update_line``).
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db.models.functions import Lower

from admin_customisations.importing.keys import lookup, norm, part_key, resolve
from admin_customisations.importing.messages import field_error_messages
from admin_customisations.importing.resource import (
    NEW,
    SKIP,
    UNCHANGED,
    UPDATE,
    CellValueError,
    Column,
    RowResult,
    SheetResource,
    boolean_column,
    decimal_column,
    integer_column,
    register,
    text_column,
)
from inventory.models import Part
from orders.choices import PURCHASE_OPEN, SALES_OPEN
from orders.models import (
    Address,
    Company,
    Contact,
    ManufacturerPart,
    PurchaseOrderLine,
    SalesOrderLine,
    SupplierPart,
    SupplierPriceBreak,
)


def _k(*values) -> tuple:
    """A natural key as the base compares them (spaces collapsed, any case)."""
    return tuple(" ".join(str(v or "").split()).casefold() for v in values)


def _quantity_key(text) -> str:
    try:
        return f"{Decimal(str(text).strip()).normalize():f}"
    except (InvalidOperation, ValueError):
        return str(text).strip()


class _OrdersResource(SheetResource):
    """Shared behaviour: importing also needs view on the models named by natural key."""

    referenced: tuple = ()

    def may_import(self, user) -> bool:
        from admin_customisations.permissions import user_may

        return super().may_import(user) and all(
            user_may(user, "view", model=model) for model in self.referenced
        )

    def new_instance(self, row, *, ctx):
        """A new object with its natural-key foreign keys set (found by ``prepare``)."""
        obj = super().new_instance(row, ctx=ctx)
        for col in self.columns:
            if col.reference and col.attribute and col.header in ctx.headers:
                found = ctx.lookups.get(col.reference, row.get(col.header, "").strip())
                if found is not None:
                    setattr(obj, col.attribute, found)
        return obj

    def adjust(self, col, value, *, row, result, ctx):
        """A blank flag or currency leaves an existing object's value as it is (new
        objects get the default)."""
        if value is None and result.action == UPDATE and col.header in self.blank_keeps:
            return SKIP
        return value

    blank_keeps: tuple = ()

    def service_errors(self, result: RowResult, error: ValidationError) -> None:
        for column, message in field_error_messages(error, self.column_for_field):
            result.error(column or self.key_columns[0], message)

    def _companies(self, rows, header, ctx) -> None:
        resolve(ctx.lookups, "company", {row.get(header, "").strip() for _, row in rows} - {""})

    def _company(self, row, header, ctx):
        return ctx.lookups.get("company", row.get(header, "").strip())


# ================================================================ companies


@register
class CompanyResource(_OrdersResource):
    model = Company
    name = "companies"
    key_columns = ("Name",)
    columns = [
        text_column("Name", "name", Company, required=True, natural_key=True, example="Farnell"),
        text_column("Description", "description", Company),
        text_column("Website", "website", Company, help="A full URL (https://…)."),
        text_column("Email", "email", Company),
        text_column("Phone", "phone", Company),
        text_column("Currency", "currency", Company, help="ISO 4217 code, e.g. EUR."),
        boolean_column("Supplier", "is_supplier", help="TRUE/FALSE (blank: TRUE)."),
        boolean_column("Customer", "is_customer", help="TRUE/FALSE (blank: FALSE)."),
        boolean_column("Manufacturer", "is_manufacturer", help="TRUE/FALSE (blank: FALSE)."),
        boolean_column("Active", "active", help="TRUE/FALSE (blank: TRUE)."),
    ]

    def queryset(self, user=None):
        return Company.objects.order_by("name")

    def find_existing(self, rows, *, ctx) -> dict:
        names = {norm(row.get("Name", "")) for _, row in rows} - {""}
        found = Company.objects.annotate(_ln=Lower("name")).filter(_ln__in=names)
        return {_k(c.name): c for c in found}

    blank_keeps = ("Currency", "Supplier", "Customer", "Manufacturer", "Active")

    def adjust(self, col, value, *, row, result, ctx):
        if col.header == "Currency":
            value = value.upper() if value else None  # blank: EUR (new) or as it is
        return super().adjust(col, value, row=row, result=result, ctx=ctx)


@register
class ContactResource(_OrdersResource):
    model = Contact
    name = "contacts"
    key_columns = ("Company", "Name")
    referenced = (Company,)
    columns = [
        Column("Company", "company", reference="company", required=True, natural_key=True),
        text_column("Name", "name", Contact, required=True, natural_key=True),
        text_column("Role", "role", Contact),
        text_column("Email", "email", Contact),
        text_column("Phone", "phone", Contact),
    ]

    def queryset(self, user=None):
        return Contact.objects.select_related("company").order_by("company__name", "name", "pk")

    def find_existing(self, rows, *, ctx) -> dict:
        companies = [c for _, r in rows if (c := self._company(r, "Company", ctx)) is not None]
        found, seen = {}, set()
        for contact in Contact.objects.filter(company__in=companies).select_related("company"):
            key = _k(contact.company.name, contact.name)
            if key in found:
                seen.add(key)
            found.setdefault(key, contact)
        ctx.state["ambiguous"] = seen
        return found

    def build(self, row, *, number=0, ctx):
        result = super().build(row, number=number, ctx=ctx)
        if result.key in ctx.state.get("ambiguous", ()):
            result.error(
                "Name",
                f"{result.key_text}: the company has several contacts with this name, so the "
                "row cannot tell which one it means. Rename one of them first.",
            )
        return result


@register
class AddressResource(_OrdersResource):
    model = Address
    name = "addresses"
    key_columns = ("Company", "Title")
    referenced = (Company,)
    columns = [
        Column("Company", "company", reference="company", required=True, natural_key=True),
        text_column("Title", "title", Address, required=True, natural_key=True),
        boolean_column(
            "Primary",
            "primary",
            help="TRUE makes it the company's primary address (FALSE or blank leave the "
            "primary address as it is).",
        ),
        text_column("Address line 1", "line1", Address, required=True),
        text_column("Address line 2", "line2", Address),
        text_column("Postal code", "postal_code", Address),
        text_column("City", "city", Address),
        text_column("State / province", "province", Address),
        text_column("Country", "country", Address),
        text_column("Shipping notes", "shipping_notes", Address),
    ]

    def queryset(self, user=None):
        return Address.objects.select_related("company").order_by("company__name", "title", "pk")

    def start(self, *, ctx) -> None:
        ctx.state["primary_rows"] = {}

    def find_existing(self, rows, *, ctx) -> dict:
        companies = [c for _, r in rows if (c := self._company(r, "Company", ctx)) is not None]
        found = {}
        for address in Address.objects.filter(company__in=companies).select_related("company"):
            found.setdefault(_k(address.company.name, address.title), address)
        return found

    def adjust(self, col, value, *, row, result, ctx):
        if col.header == "Primary" and value is not True:
            # only TRUE acts: the service keeps exactly one primary address per company
            return SKIP if result.action == UPDATE else False
        return value

    def check_chunk(self, results, *, ctx) -> None:
        seen = ctx.state.setdefault("primary_rows", {})
        for result in results:
            if result.values.get("Primary") is not True:
                continue
            company = result.instance.company
            first = seen.setdefault(company.pk, result.number)
            if first != result.number:
                result.error(
                    "Primary",
                    f"{company.name} can have only one primary address: rows {first} and "
                    f"{result.number} are both marked primary.",
                )

    def commit(self, results, *, ctx) -> None:
        from orders.services.companies import address_save

        for result in results:
            address_save(address=result.instance, user=ctx.user)


# ================================================================ sourcing


def _manufacturer_parts_by_pair(pairs) -> dict[tuple, list]:
    """{(manufacturer, MPN) normalised: [ManufacturerPart, …]} in one query."""
    pairs = {(norm(m), norm(p)) for m, p in pairs if m and p}
    found = defaultdict(list)
    if not pairs:
        return found
    qs = (
        ManufacturerPart.objects.select_related("manufacturer", "part")
        .annotate(_lm=Lower("manufacturer__name"), _lk=Lower("mpn"))
        .filter(_lk__in={p for _, p in pairs}, _lm__in={m for m, _ in pairs})
    )
    for mp in qs:
        key = (norm(mp.manufacturer.name), norm(mp.mpn))
        if key in pairs:
            found[key].append(mp)
    return found


def _supplier_parts_by_pair(pairs) -> dict[tuple, list]:
    """{(supplier, SKU) normalised: [SupplierPart, …]} in one query."""
    pairs = {(norm(s), norm(k)) for s, k in pairs if s and k}
    found = defaultdict(list)
    if not pairs:
        return found
    qs = (
        SupplierPart.objects.select_related("supplier", "part", "manufacturer_part")
        .annotate(_ls=Lower("supplier__name"), _lk=Lower("sku"))
        .filter(_lk__in={k for _, k in pairs}, _ls__in={s for s, _ in pairs})
    )
    for sp in qs:
        key = (norm(sp.supplier.name), norm(sp.sku))
        if key in pairs:
            found[key].append(sp)
    return found


def _pick(candidates, part, what: str, *, want_part_column: str):
    """The one candidate (of a supplier + SKU or manufacturer + MPN) the row means."""
    if part is not None:
        matching = [c for c in candidates if c.part_id == part.pk]
        if matching:
            return matching[0]
        raise CellValueError(f"{what} is not linked to '{part}'.")
    if len(candidates) > 1:
        parts = ", ".join(sorted(f"'{part_key(c.part)}'" for c in candidates))
        raise CellValueError(
            f"{what} is linked to several parts ({parts}): give the {want_part_column} too."
        )
    return candidates[0]


@register
class ManufacturerPartResource(_OrdersResource):
    model = ManufacturerPart
    name = "manufacturer_parts"
    title = "Manufacturer parts"
    key_columns = ("Manufacturer", "MPN", "Part IPN")
    referenced = (Company, Part)
    columns = [
        Column(
            "Manufacturer", "manufacturer", reference="company", required=True, natural_key=True
        ),
        text_column("MPN", "mpn", ManufacturerPart, required=True, natural_key=True),
        Column(
            "Part IPN",
            "part",
            reference="part",
            required=True,
            natural_key=True,
            render=lambda mp: part_key(mp.part),
        ),
        text_column("Description", "description", ManufacturerPart),
        text_column("Link", "link", ManufacturerPart),
    ]

    def queryset(self, user=None):
        return ManufacturerPart.objects.select_related("manufacturer", "part").order_by(
            "manufacturer__name", "mpn", "pk"
        )

    def find_existing(self, rows, *, ctx) -> dict:
        found = _manufacturer_parts_by_pair(
            (r.get("Manufacturer", ""), r.get("MPN", "")) for _, r in rows
        )
        return {
            _k(manufacturer, mpn, part_key(mp.part)): mp
            for (manufacturer, mpn), mps in found.items()
            for mp in mps
        }

    def validate_instance(self, result, *, ctx) -> None:
        from orders.services.companies import manufacturer_part_check

        super().validate_instance(result, ctx=ctx)
        if not result.is_error:
            try:
                manufacturer_part_check(result.instance)
            except ValidationError as error:
                self.service_errors(result, error)


@register
class SupplierPartResource(_OrdersResource):
    model = SupplierPart
    name = "supplier_parts"
    title = "Supplier parts"
    key_columns = ("Supplier", "SKU", "Part IPN")
    referenced = (Company, Part)
    columns = [
        Column("Supplier", "supplier", reference="company", required=True, natural_key=True),
        text_column("SKU", "sku", SupplierPart, required=True, natural_key=True),
        Column(
            "Part IPN",
            "part",
            reference="part",
            required=True,
            natural_key=True,
            render=lambda sp: part_key(sp.part),
        ),
        Column(
            "Manufacturer",
            None,
            render=lambda sp: (
                sp.manufacturer_part.manufacturer.name if sp.manufacturer_part_id else ""
            ),
            help="With MPN: the manufacturer part (it must exist, for the same part).",
        ),
        Column(
            "MPN",
            None,
            render=lambda sp: sp.manufacturer_part.mpn if sp.manufacturer_part_id else "",
        ),
        text_column("Description", "description", SupplierPart),
        decimal_column("Pack quantity", "pack_quantity", help="Units per pack (blank: 1)."),
        integer_column("Lead time (days)", "lead_time_days"),
        text_column("Link", "link", SupplierPart),
        boolean_column("Active", "active", help="TRUE/FALSE (blank: TRUE)."),
    ]

    def queryset(self, user=None):
        return SupplierPart.objects.select_related(
            "supplier", "part", "manufacturer_part__manufacturer"
        ).order_by("supplier__name", "sku", "pk")

    def prepare(self, rows, *, ctx) -> None:
        super().prepare(rows, ctx=ctx)
        ctx.state["mps"] = _manufacturer_parts_by_pair(
            (r.get("Manufacturer", ""), r.get("MPN", "")) for _, r in rows
        )

    def find_existing(self, rows, *, ctx) -> dict:
        found = _supplier_parts_by_pair((r.get("Supplier", ""), r.get("SKU", "")) for _, r in rows)
        return {
            _k(supplier, sku, part_key(sp.part)): sp
            for (supplier, sku), sps in found.items()
            for sp in sps
        }

    def build(self, row, *, number=0, ctx):
        result = super().build(row, number=number, ctx=ctx)
        if result.is_error or not ({"Manufacturer", "MPN"} & set(ctx.headers)):
            return result
        item = result.instance
        manufacturer, mpn = row.get("Manufacturer", "").strip(), row.get("MPN", "").strip()
        if bool(manufacturer) != bool(mpn):
            result.error(
                "MPN" if manufacturer else "Manufacturer",
                "Give both Manufacturer and MPN (or neither).",
            )
            return result
        wanted = None
        if mpn:
            candidates = ctx.state["mps"].get((norm(manufacturer), norm(mpn)), [])
            if not candidates:
                result.error("MPN", f"The manufacturer part '{manufacturer} {mpn}' does not exist.")
                return result
            matching = [mp for mp in candidates if mp.part_id == item.part_id]
            wanted = (matching or candidates)[0]
        old = item.manufacturer_part if item.manufacturer_part_id else None
        if getattr(old, "pk", None) != getattr(wanted, "pk", None):
            item.manufacturer_part = wanted
            if item.pk:
                result.changes["MPN"] = (str(old or ""), str(wanted or ""))
                result.action = UPDATE
            self._check(result)
        return result

    def validate_instance(self, result, *, ctx) -> None:
        super().validate_instance(result, ctx=ctx)
        if not result.is_error:
            self._check(result)

    def _check(self, result) -> None:
        from orders.services.companies import supplier_part_check

        try:
            supplier_part_check(result.instance)
        except ValidationError as error:
            self.service_errors(result, error)

    def column_for_field(self, name: str) -> str:
        if name == "manufacturer_part":
            return "MPN"
        return super().column_for_field(name)

    blank_keeps = ("Active",)

    def commit(self, results, *, ctx) -> None:
        """Bulk writes with history (the service's checks ran on every row in ``build``)."""
        from inventory.history_signals import bulk_create_with_history, bulk_update_with_history

        new = [r.instance for r in results if r.action == NEW]
        updated = [r for r in results if r.action == UPDATE]
        if new:
            bulk_create_with_history(
                new,
                SupplierPart,
                batch_size=500,
                default_user=ctx.user,
                default_change_reason=ctx.reason,
            )
        if updated:
            fields = {
                "manufacturer_part" if h == "MPN" else self.column(h).attribute
                for r in updated
                for h in r.changes
            }
            bulk_update_with_history(
                [r.instance for r in updated],
                SupplierPart,
                sorted(fields),
                batch_size=250,
                default_user=ctx.user,
                default_change_reason=ctx.reason,
            )


class _SupplierPartRows:
    """Rows naming a supplier part by Supplier + SKU (+ Part IPN to tell parts apart)."""

    supplier_header = "Supplier"
    sku_header = "SKU"
    part_header = "Part IPN"

    def _resolve_supplier_parts(self, rows, ctx, supplier_of=None) -> None:
        pairs = []
        for _, row in rows:
            supplier = supplier_of(row) if supplier_of else row.get(self.supplier_header, "")
            pairs.append((supplier, row.get(self.sku_header, "")))
        ctx.state["sps"] = _supplier_parts_by_pair(pairs)
        resolve(ctx.lookups, "part", {r.get(self.part_header, "").strip() for _, r in rows} - {""})

    def _supplier_part(self, row, ctx, result, supplier_name=None):
        supplier = supplier_name if supplier_name is not None else row.get(self.supplier_header, "")
        sku = row.get(self.sku_header, "").strip()
        part = None
        if row.get(self.part_header, "").strip():
            try:
                part = lookup(ctx.lookups, "part", row[self.part_header].strip())
            except CellValueError as error:
                result.error(self.part_header, str(error))
                return None
        candidates = ctx.state["sps"].get((norm(supplier), norm(sku)), [])
        what = f"SKU '{sku}' of {supplier.strip()}"
        if not candidates:
            result.error(self.sku_header, f"{what} does not exist.")
            return None
        try:
            return _pick(candidates, part, what, want_part_column=self.part_header)
        except CellValueError as error:
            result.error(self.sku_header, str(error))
            return None


@register
class PriceBreakResource(_SupplierPartRows, _OrdersResource):
    model = SupplierPriceBreak
    name = "price_breaks"
    title = "Price breaks"
    key_columns = ("Supplier", "SKU", "Quantity")
    referenced = (Company, SupplierPart)
    columns = [
        Column(
            "Supplier",
            None,
            required=True,
            natural_key=True,
            render=lambda pb: pb.supplier_part.supplier.name,
        ),
        Column(
            "SKU", None, required=True, natural_key=True, render=lambda pb: pb.supplier_part.sku
        ),
        Column(
            "Part IPN",
            None,
            render=lambda pb: part_key(pb.supplier_part.part),
            help="Only to tell apart one SKU used for several parts.",
        ),
        decimal_column("Quantity", "quantity", required=True, natural_key=True),
        decimal_column("Price", "price", required=True),
        text_column("Currency", "currency", SupplierPriceBreak, help="Blank: the supplier's."),
    ]

    def queryset(self, user=None):
        return SupplierPriceBreak.objects.select_related(
            "supplier_part__supplier", "supplier_part__part"
        ).order_by("supplier_part__supplier__name", "supplier_part__sku", "quantity", "pk")

    def row_key(self, row):
        key = _k(row.get("Supplier", ""), row.get("SKU", ""), row.get("Part IPN", ""))
        quantity = _quantity_key(row.get("Quantity", ""))
        return (*key, quantity) if any(key) or quantity else None

    def prepare(self, rows, *, ctx) -> None:
        self._resolve_supplier_parts(rows, ctx)
        sps = [sp for lst in ctx.state["sps"].values() for sp in lst]
        existing = {}
        for pb in SupplierPriceBreak.objects.filter(supplier_part__in=sps):
            existing[(pb.supplier_part_id, _quantity_key(pb.quantity))] = pb
        ctx.state["breaks"] = existing

    def build(self, row, *, number=0, ctx):
        result = RowResult(number, key=self.row_key(row), key_text=self.key_text(row))
        sp = self._supplier_part(row, ctx, result)
        if sp is None:
            if not result.errors:
                result.error("SKU", "This column is required.")
            return result
        existing = ctx.state["breaks"].get((sp.pk, _quantity_key(row.get("Quantity", ""))))
        ctx.state["existing"] = {result.key: existing} if existing else {}
        ctx.state["sp"] = sp
        built = super().build(row, number=number, ctx=ctx)
        built.key, built.key_text = result.key, result.key_text
        return built

    def new_instance(self, row, *, ctx):
        sp = ctx.state["sp"]
        return SupplierPriceBreak(supplier_part=sp, currency=sp.supplier.currency)

    def adjust(self, col, value, *, row, result, ctx):
        if col.header == "Currency":
            if not value:
                return SKIP  # new: the supplier's currency (new_instance); existing: as is
            return value.upper()
        return super().adjust(col, value, row=row, result=result, ctx=ctx)


# ================================================================ order lines


class _OrderLineResource(_OrdersResource):
    """Shared: the order must be open and the importer responsible for it."""

    order_kind = ""
    open_statuses: frozenset = frozenset()
    doing = ""

    def _order(self, row, ctx, result):
        text = row.get("Order", "").strip()
        if not text:
            result.error("Order", "This column is required.")
            return None
        try:
            order = lookup(ctx.lookups, self.order_kind, text)
        except CellValueError as error:
            result.error("Order", str(error))
            return None
        return order

    def _check_order(self, order, result, ctx) -> None:
        from inventory.responsibility import check_responsible

        if order.status not in self.open_statuses:
            result.error(
                "Order",
                f"{order.reference} is {order.get_status_display()}: {self.doing} only while "
                "the order is open.",
            )
            return
        try:
            check_responsible(order, ctx.user)
        except ValidationError as error:
            result.error("Order", " ".join(error.messages))

    def _existing_lines(self, orders, key_of) -> tuple[dict, set]:
        found, ambiguous = {}, set()
        for line in self.model.objects.filter(order__in=orders).order_by("pk"):
            key = key_of(line)
            if key in found:
                ambiguous.add(key)
            found.setdefault(key, line)
        return found, ambiguous

    part_header = ""

    def check_chunk(self, results, *, ctx) -> None:
        """Two rows naming the same line in different words (SKU / IPN / name) are one line."""
        seen = ctx.state.setdefault("lines_seen", {})
        for result in results:
            line = result.instance
            what = getattr(line, "supplier_part", None) or line.part
            key = (line.order_id, what.pk, norm(line.reference))
            first = seen.setdefault(key, result.number)
            if first != result.number:
                ref = f" with reference '{line.reference}'" if line.reference else ""
                result.error(
                    self.key_columns[1],
                    f"Rows {first} and {result.number} both mean the line of {what} on "
                    f"{line.order.reference}{ref}: give each line its own Reference.",
                )

    def adjust(self, col, value, *, row, result, ctx):
        if col.header == "Unit price" and value is None:
            return SKIP  # blank: keep the line's price (a new line: the default price)
        return super().adjust(col, value, row=row, result=result, ctx=ctx)


@register
class PurchaseOrderLineResource(_SupplierPartRows, _OrderLineResource):
    model = PurchaseOrderLine
    name = "purchase_order_lines"
    title = "Purchase order lines"
    key_columns = ("Order", "Supplier SKU", "Reference")
    referenced = (Company, SupplierPart)
    order_kind = "purchase_order"
    open_statuses = PURCHASE_OPEN
    doing = "lines can be added or changed"
    sku_header = "Supplier SKU"
    columns = [
        Column(
            "Order",
            None,
            required=True,
            natural_key=True,
            render=lambda line: line.order.reference,
        ),
        Column(
            "Supplier SKU",
            None,
            natural_key=True,
            render=lambda line: line.supplier_part.sku,
            help="The SKU of the order's supplier (or give Part IPN).",
        ),
        Column(
            "Part IPN",
            None,
            render=lambda line: part_key(line.supplier_part.part),
            help="Our part, when the supplier has one SKU for it.",
        ),
        decimal_column("Quantity", "quantity", required=True, help="In packs."),
        decimal_column("Unit price", "unit_price", help="Per pack (blank: the price break)."),
        Column(
            "Receive into",
            "destination",
            reference="location",
            render=lambda line: line.destination.pathstring if line.destination_id else "",
            help="Location path; blank: the order's.",
        ),
        text_column("Reference", "reference", PurchaseOrderLine, natural_key=True),
        text_column("Notes", "notes", PurchaseOrderLine),
        decimal_column("Received", "received", importable=False, help="Export only."),
    ]

    def queryset(self, user=None):
        return PurchaseOrderLine.objects.select_related(
            "order", "supplier_part__part", "destination"
        ).order_by("order__reference", "pk")

    def row_key(self, row):
        part = row.get("Supplier SKU", "").strip() or (
            "ipn:" + row.get("Part IPN", "").strip() if row.get("Part IPN", "").strip() else ""
        )
        key = _k(row.get("Order", ""), part, row.get("Reference", ""))
        return key if any(key) else None

    def key_text(self, row):
        what = row.get("Supplier SKU", "").strip() or row.get("Part IPN", "").strip()
        text = f"Order '{row.get('Order', '').strip()}', '{what}'"
        if row.get("Reference", "").strip():
            text += f", reference '{row['Reference'].strip()}'"
        return text

    def prepare(self, rows, *, ctx) -> None:
        super().prepare(rows, ctx=ctx)  # locations
        resolve(ctx.lookups, "purchase_order", {r.get("Order", "").strip() for _, r in rows} - {""})
        orders = {
            o.pk: o
            for _, r in rows
            if (o := ctx.lookups.get("purchase_order", r.get("Order", "").strip())) is not None
        }
        order_of = {
            n: ctx.lookups.get("purchase_order", r.get("Order", "").strip()) for n, r in rows
        }
        self._resolve_supplier_parts(rows, ctx, supplier_of=lambda r: self._supplier_name(r, ctx))
        # supplier parts by (supplier, part) for rows that give only the Part IPN
        wanted = defaultdict(set)
        for number, row in rows:
            order = order_of[number]
            part = ctx.lookups.get("part", row.get("Part IPN", "").strip())
            if order is not None and part is not None and not row.get("Supplier SKU", "").strip():
                wanted[order.supplier_id].add(part.pk)
        by_part = defaultdict(list)
        for supplier_id, part_ids in wanted.items():
            for sp in SupplierPart.objects.filter(
                supplier_id=supplier_id, part_id__in=part_ids
            ).select_related("part", "supplier"):
                by_part[(sp.supplier_id, sp.part_id)].append(sp)
        ctx.state["by_part"] = by_part
        lines, ambiguous = self._existing_lines(
            list(orders.values()),
            lambda line: (line.order_id, line.supplier_part_id, norm(line.reference)),
        )
        ctx.state["lines"], ctx.state["ambiguous"] = lines, ambiguous

    def _supplier_name(self, row, ctx) -> str:
        order = ctx.lookups.get("purchase_order", row.get("Order", "").strip())
        return order.supplier.name if order is not None else ""

    def build(self, row, *, number=0, ctx):
        result = RowResult(number, key=self.row_key(row), key_text=self.key_text(row))
        order = self._order(row, ctx, result)
        if order is None:
            return result
        if row.get("Supplier SKU", "").strip():
            sp = self._supplier_part(row, ctx, result, supplier_name=order.supplier.name)
        else:
            sp = self._by_part(row, order, ctx, result)
        if sp is None:
            return result
        key = (order.pk, sp.pk, norm(row.get("Reference", "")))
        if key in ctx.state["ambiguous"]:
            result.error(
                "Reference",
                f"{order.reference} has several lines for {sp} with this reference: give each "
                "line its own reference first.",
            )
            return result
        existing = ctx.state["lines"].get(key)
        ctx.state["existing"] = {result.key: existing} if existing else {}
        ctx.state["new"] = (order, sp)
        built = super().build(row, number=number, ctx=ctx)
        built.key, built.key_text = result.key, result.key_text
        if built.is_error or built.action == UNCHANGED:
            return built
        self._check_order(order, built, ctx)
        if not built.is_error:
            from orders.services.purchase import purchase_order_line_check

            try:
                purchase_order_line_check(built.instance, order=order)
            except ValidationError as error:
                self.service_errors(built, error)
        return built

    def _by_part(self, row, order, ctx, result):
        text = row.get("Part IPN", "").strip()
        if not text:
            result.error("Supplier SKU", "Give the Supplier SKU or the Part IPN.")
            return None
        try:
            part = lookup(ctx.lookups, "part", text)
        except CellValueError as error:
            result.error("Part IPN", str(error))
            return None
        found = ctx.state["by_part"].get((order.supplier_id, part.pk), [])
        if not found:
            result.error("Part IPN", f"{order.supplier.name} has no SKU for '{part}'.")
            return None
        if len(found) > 1:
            skus = ", ".join(sorted(sp.sku for sp in found))
            result.error(
                "Supplier SKU",
                f"{order.supplier.name} has several SKUs for '{part}' ({skus}): give the "
                "Supplier SKU.",
            )
            return None
        return found[0]

    def new_instance(self, row, *, ctx):
        order, sp = ctx.state["new"]
        return PurchaseOrderLine(order=order, supplier_part=sp)

    def column_for_field(self, name: str) -> str:
        return {"supplier_part": "Supplier SKU", "order": "Order"}.get(
            name
        ) or super().column_for_field(name)

    def commit(self, results, *, ctx) -> None:
        from inventory.services.common import lock, save_with_history
        from orders.services.purchase import purchase_order_add_line, purchase_order_line_check

        for result in results:
            line = result.instance
            if result.action == NEW:
                purchase_order_add_line(
                    order=line.order,
                    supplier_part=line.supplier_part,
                    quantity=line.quantity,
                    user=ctx.user,
                    unit_price=line.unit_price,
                    destination=line.destination,
                    reference=line.reference,
                    notes=line.notes,
                )
                continue
            fresh = lock(PurchaseOrderLine, line.pk)
            for header in result.changes:
                attribute = self.column(header).attribute
                setattr(fresh, attribute, getattr(line, attribute))
            purchase_order_line_check(fresh)
            fresh.full_clean()
            save_with_history(fresh, user=ctx.user, reason="Line changed")


@register
class SalesOrderLineResource(_OrderLineResource):
    model = SalesOrderLine
    name = "sales_order_lines"
    title = "Sales order lines"
    key_columns = ("Order", "Part IPN", "Reference")
    referenced = (Company, Part)
    order_kind = "sales_order"
    open_statuses = SALES_OPEN
    doing = "lines can be added or changed"
    columns = [
        Column(
            "Order",
            "order",
            reference="sales_order",
            required=True,
            natural_key=True,
            render=lambda line: line.order.reference,
        ),
        Column(
            "Part IPN",
            "part",
            reference="part",
            required=True,
            natural_key=True,
            render=lambda line: part_key(line.part),
        ),
        decimal_column("Quantity", "quantity", required=True),
        decimal_column("Unit price", "unit_price", help="Blank: none (or unchanged)."),
        text_column("Reference", "reference", SalesOrderLine, natural_key=True),
        text_column("Notes", "notes", SalesOrderLine),
        decimal_column("Shipped", "shipped", importable=False, help="Export only."),
    ]

    def queryset(self, user=None):
        return SalesOrderLine.objects.select_related("order", "part").order_by(
            "order__reference", "pk"
        )

    def find_existing(self, rows, *, ctx) -> dict:
        orders = {
            o.pk: o
            for _, r in rows
            if (o := ctx.lookups.get("sales_order", r.get("Order", "").strip())) is not None
        }
        lines, ambiguous = self._existing_lines(
            list(orders.values()), lambda line: (line.order_id, line.part_id, norm(line.reference))
        )
        ctx.state["ambiguous"] = ambiguous
        found = {}
        for line in lines.values():
            line.order = orders[line.order_id]
        for _, row in rows:  # by the row's own key text (order + part as written)
            order = ctx.lookups.get("sales_order", row.get("Order", "").strip())
            part = ctx.lookups.get("part", row.get("Part IPN", "").strip())
            if order is None or part is None:
                continue
            line = lines.get((order.pk, part.pk, norm(row.get("Reference", ""))))
            if line is not None:
                found[self.row_key(row)] = line
        return found

    def build(self, row, *, number=0, ctx):
        result = super().build(row, number=number, ctx=ctx)
        if result.is_error or result.action == UNCHANGED:
            return result
        line = result.instance
        key = (line.order_id, line.part_id, norm(line.reference))
        if key in ctx.state.get("ambiguous", ()):
            result.error(
                "Reference",
                f"{line.order.reference} has several lines for '{line.part}' with this "
                "reference: give each line its own reference first.",
            )
            return result
        self._check_order(line.order, result, ctx)
        if result.is_error or result.action != UPDATE:
            return result
        from orders.services.sales import _check_line_quantity

        if "Quantity" in result.changes:
            try:
                _check_line_quantity(line, line.quantity)
            except ValidationError as error:
                self.service_errors(result, error)
        return result

    def commit(self, results, *, ctx) -> None:
        from orders.services.sales import sales_order_add_line, sales_order_update_line

        for result in results:
            line = result.instance
            if result.action == NEW:
                sales_order_add_line(
                    order=line.order,
                    part=line.part,
                    quantity=line.quantity,
                    user=ctx.user,
                    unit_price=line.unit_price,
                    reference=line.reference,
                    notes=line.notes,
                )
                continue
            fields = {
                self.column(h).attribute: getattr(line, self.column(h).attribute)
                for h in result.changes
            }
            sales_order_update_line(line=line, user=ctx.user, **fields)
