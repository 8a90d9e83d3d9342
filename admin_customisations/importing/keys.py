"""Natural keys: find the objects a chunk of rows names, in bulk, with "did you mean".

Kinds (the ``Column.reference`` names):

=====================  ===========================================  =====================
kind                   a cell holds                                 matched
=====================  ===========================================  =====================
``category``           a category path ``Electronics/Passives``     case-insensitively
``location``           a location path ``Warehouse/Aisle 3``        case-insensitively
``part``               a part's IPN (else its name, when unique)    case-insensitively
``template``           a parameter template's name                  case-insensitively
``company``            a company's name                             case-insensitively
``supplier``           a supplier's name (company flagged supplier)  case-insensitively
``manufacturer``       a manufacturer's name                        case-insensitively
``customer``           a customer's name                            case-insensitively
``purchase_order``     a purchase order reference ``PO-0042``       case-insensitively
``sales_order``        a sales order reference ``SO-0042``          case-insensitively
=====================  ===========================================  =====================

Pairs (supplier + SKU, manufacturer + MPN) are looked up with ``supplier_parts`` and
``manufacturer_parts``. ``resolve`` runs one query per kind for the values of a chunk
that are not cached yet; ``lookup`` then answers from the cache, or raises
``CellValueError`` ("'Electronics/Resistrs' does not exist — did you mean
'Electronics/Resistors'?"). Objects a file creates earlier in the same file (a parent
category row above its children) are ``plan``-ned so later rows find them while the
file is only being validated.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from functools import lru_cache

from django.db import connection
from django.db.models.functions import Lower

from admin_customisations.importing.resource import CellValueError

# Small tables are cached for the whole run; big ones (parts) only for the current chunk.
PER_CHUNK_KINDS = {"part"}
MAX_CANDIDATES = 20_000


def part_key(part) -> str:
    """A part's natural key as files write it: its IPN, else its name ("" for none)."""
    if part is None:
        return ""
    return part.ipn or part.name


def norm(text: str) -> str:
    """A plain key as compared: surrounding and repeated spaces ignored, any case."""
    return " ".join(str(text or "").split()).lower()


@lru_cache(maxsize=4096)
def _norm_path_text(text: str) -> str:
    levels = [" ".join(level.split()) for level in text.strip().strip("/").split("/")]
    return "/".join(levels).lower()


def norm_path(text: str) -> str:
    """A path as compared: spaces around each level ignored, any case, no outer slashes.

    Cached: a file names the same few category and location paths on every row."""
    if isinstance(text, str):
        return _norm_path_text(text)
    levels = [" ".join(level.split()) for level in str(text or "").strip().strip("/").split("/")]
    return "/".join(levels).lower()


def clean_path(text: str) -> str:
    """A path as it should be written (spaces around levels removed)."""
    return "/".join(
        " ".join(level.split()) for level in str(text or "").strip().strip("/").split("/")
    )


class Lookups:
    """Per-run cache: {kind: {normalised key: object}}, misses, planned objects."""

    def __init__(self):
        self.found: dict[str, dict] = {}
        self.missing: dict[str, set] = {}
        self.planned: dict[str, dict] = {}
        self._candidates: dict[str, list[str]] = {}
        self.queries = 0

    def end_chunk(self) -> None:
        for kind in PER_CHUNK_KINDS:
            self.found.pop(kind, None)
            self.missing.pop(kind, None)

    def plan(self, kind: str, key: str, obj) -> None:
        """Remember an object the file creates (found by later rows of the same file)."""
        self.planned.setdefault(kind, {})[_normaliser(kind)(key)] = obj
        self.missing.get(kind, set()).discard(_normaliser(kind)(key))

    def get(self, kind: str, text: str):
        key = _normaliser(kind)(text)
        planned = self.planned.get(kind)
        if planned and key in planned:
            return planned[key]
        found = self.found.get(kind)
        return found.get(key) if found else None


def _normaliser(kind: str):
    return norm_path if kind in ("category", "location") else norm


# ---------------------------------------------------------------- loaders (one query each)


def lower_in(queryset, attr: str, values, *, batch: int = 900, load=list) -> list:
    """Objects of ``queryset`` whose ``LOWER(attr)`` is one of ``values`` (lower-case).

    Written as plain SQL: Django's ``Lower(attr)__in`` prepares every value through the
    function's output field, which costs more than the query at a thousand values, and
    the expression index ``LOWER(ipn)`` serves this form on SQLite and PostgreSQL."""
    values = sorted(values)
    if not values:
        return []
    model = queryset.model
    column = model._meta.get_field(attr).column
    quote = connection.ops.quote_name
    found = []
    for start in range(0, len(values), batch):
        part = values[start : start + batch]
        where = f"LOWER({quote(model._meta.db_table)}.{quote(column)}) IN ({', '.join(['%s'] * len(part))})"
        found.extend(load(queryset.extra(where=[where], params=part)))  # noqa: S610 (params)
    return found


def _load_paths(model, keys):
    qs = lower_in(model.objects.all(), "pathstring", keys)
    exact = [k for k in keys if k not in {norm_path(o.pathstring) for o in qs}]
    if exact:  # non-ASCII case differences (SQLite's LOWER folds ASCII only)
        qs = [*qs, *model.objects.filter(pathstring__in=exact)]
    return {norm_path(obj.pathstring): obj for obj in qs}


def _load_by_name(queryset, keys, attr="name"):
    return {norm(getattr(obj, attr)): obj for obj in lower_in(queryset, attr, keys)}


def _load(kind: str, keys: set[str]) -> dict:
    from inventory.models import Part, PartCategory, PartParameterTemplate, StockLocation

    if kind == "category":
        return _load_paths(PartCategory, keys)
    if kind == "location":
        return _load_paths(StockLocation, keys)
    if kind == "template":
        return _load_by_name(PartParameterTemplate.objects.all(), keys)
    if kind == "part":
        found = _load_by_name(Part.objects.select_related("category"), keys, "ipn")
        rest = [k for k in keys if k not in found]
        if rest:  # parts without an IPN, by name when the name is unique among them
            by_name: dict[str, list] = {}
            for part in lower_in(Part.objects.filter(ipn=""), "name", rest):
                by_name.setdefault(norm(part.name), []).append(part)
            found.update({k: v[0] for k, v in by_name.items() if len(v) == 1})
        return found
    from orders.models import Company, PurchaseOrder, SalesOrder

    if kind in ("company", "supplier", "manufacturer", "customer"):
        qs = Company.objects.all()
        if kind != "company":
            qs = qs.filter(**{f"is_{kind}": True})
        return _load_by_name(qs, keys)
    if kind == "purchase_order":
        return _load_by_name(PurchaseOrder.objects.all(), keys, "reference")
    if kind == "sales_order":
        return _load_by_name(SalesOrder.objects.all(), keys, "reference")
    raise LookupError(f"Unknown natural-key kind {kind!r}")


def resolve(lookups: Lookups, kind: str, values: Iterable[str]) -> None:
    """Load the objects for ``values`` not cached yet (one query)."""
    normalise = _normaliser(kind)
    found = lookups.found.setdefault(kind, {})
    missing = lookups.missing.setdefault(kind, set())
    planned = lookups.planned.get(kind, {})
    wanted = {normalise(v) for v in values if v and str(v).strip()}
    wanted = {k for k in wanted if k not in found and k not in missing and k not in planned}
    if not wanted:
        return
    lookups.queries += 1
    loaded = _load(kind, wanted)
    found.update(loaded)
    missing.update(wanted - set(loaded))


def lookup(lookups: Lookups, kind: str, text: str):
    """The object ``text`` names (resolve first); CellValueError with a suggestion if none."""
    obj = lookups.get(kind, text)
    if obj is not None:
        return obj
    key = _normaliser(kind)(text)
    if key not in lookups.missing.get(kind, set()) and key not in lookups.found.get(kind, {}):
        resolve(lookups, kind, [text])
        obj = lookups.get(kind, text)
        if obj is not None:
            return obj
    raise CellValueError(not_found_message(lookups, kind, text))


def not_found_message(lookups: Lookups, kind: str, text: str) -> str:
    suggestion = suggest(lookups, kind, text)
    shown = clean_path(text) if kind in ("category", "location") else text.strip()
    if suggestion:
        return f"'{shown}' does not exist — did you mean '{suggestion}'?"
    return f"'{shown}' does not exist."


def _candidate_values(kind: str, text: str) -> list[str]:
    from inventory.models import Part, PartCategory, PartParameterTemplate, StockLocation

    if kind == "category":
        return list(PartCategory.objects.values_list("pathstring", flat=True)[:MAX_CANDIDATES])
    if kind == "location":
        return list(StockLocation.objects.values_list("pathstring", flat=True)[:MAX_CANDIDATES])
    if kind == "template":
        return list(PartParameterTemplate.objects.values_list("name", flat=True)[:MAX_CANDIDATES])
    if kind == "part":
        prefix = text.strip()[:2]
        return list(
            Part.objects.exclude(ipn="")
            .filter(ipn__istartswith=prefix)
            .values_list("ipn", flat=True)[:5000]
        )
    from orders.models import Company, PurchaseOrder, SalesOrder

    if kind in ("company", "supplier", "manufacturer", "customer"):
        qs = Company.objects.all()
        if kind != "company":
            qs = qs.filter(**{f"is_{kind}": True})
        return list(qs.values_list("name", flat=True)[:MAX_CANDIDATES])
    if kind == "purchase_order":
        return list(PurchaseOrder.objects.values_list("reference", flat=True)[:MAX_CANDIDATES])
    if kind == "sales_order":
        return list(SalesOrder.objects.values_list("reference", flat=True)[:MAX_CANDIDATES])
    return []


def suggest(lookups: Lookups, kind: str, text: str) -> str | None:
    """The closest existing key (difflib), or None."""
    if kind in PER_CHUNK_KINDS:
        candidates = _candidate_values(kind, text)
    else:
        if kind not in lookups._candidates:
            lookups._candidates[kind] = _candidate_values(kind, text)
        candidates = lookups._candidates[kind]
    planned = [
        getattr(o, "pathstring", None) or str(o) for o in lookups.planned.get(kind, {}).values()
    ]
    candidates = candidates + [p for p in planned if p]
    if not candidates:
        return None
    normalise = _normaliser(kind)
    by_norm = {normalise(c): c for c in candidates}
    close = difflib.get_close_matches(normalise(text), list(by_norm), n=1, cutoff=0.6)
    return by_norm[close[0]] if close else None


# ---------------------------------------------------------------- pairs


def supplier_parts(pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], object]:
    """{(supplier name, SKU) normalised: SupplierPart} in one query."""
    from orders.models import SupplierPart

    pairs = {(norm(s), norm(k)) for s, k in pairs if s and k}
    if not pairs:
        return {}
    qs = (
        SupplierPart.objects.select_related("supplier", "part")
        .annotate(_ls=Lower("supplier__name"), _lk=Lower("sku"))
        .filter(_lk__in={k for _, k in pairs}, _ls__in={s for s, _ in pairs})
    )
    found = {(norm(sp.supplier.name), norm(sp.sku)): sp for sp in qs}
    return {pair: sp for pair, sp in found.items() if pair in pairs}


def manufacturer_parts(pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], object]:
    """{(manufacturer name, MPN) normalised: ManufacturerPart} in one query."""
    from orders.models import ManufacturerPart

    pairs = {(norm(m), norm(k)) for m, k in pairs if m and k}
    if not pairs:
        return {}
    qs = (
        ManufacturerPart.objects.select_related("manufacturer", "part")
        .annotate(_lm=Lower("manufacturer__name"), _lk=Lower("mpn"))
        .filter(_lk__in={k for _, k in pairs}, _lm__in={m for m, _ in pairs})
    )
    found = {(norm(mp.manufacturer.name), norm(mp.mpn)): mp for mp in qs}
    return {pair: mp for pair, mp in found.items() if pair in pairs}


def parts_by_ipn(ipns: Iterable[str]) -> dict[str, object]:
    """{normalised IPN: Part} in one query (the resource's own key look-up)."""
    from inventory.models import Part

    keys = {norm(i) for i in ipns if i and str(i).strip()}
    if not keys:
        return {}
    return _load_by_name(Part.objects.all(), keys, "ipn")
