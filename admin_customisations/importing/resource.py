"""The one spreadsheet resource base: columns by natural key, rows built and checked in chunks.

A resource says which columns a model has in a spreadsheet (human-readable headers,
natural keys instead of database ids), how to find the existing object a row means
(``key_columns``), and how to write validated rows (``commit``, through the services
where the domain has them). The engine (``engine.py``) drives it: header check,
``prepare`` (bulk look-ups for a chunk of rows), ``build`` (one ``RowResult`` per row:
new / update / unchanged / error), ``check_chunk`` (uniqueness and object rules in bulk)
and, on confirm, ``commit``.

Cells are cleaned and rendered with django-import-export's widgets (``Column.widget``);
booleans and choices get strict widgets of our own (import-export's BooleanWidget reads
any unknown word as False).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.base import ModelState
from import_export import widgets
from import_export.fields import Field

from admin_customisations.importing.messages import field_error_messages

NEW, UPDATE, UNCHANGED, ERROR = "new", "update", "unchanged", "error"
_IMMUTABLE = (str, int, float, bool, Decimal, date, datetime, type(None))
ACTIONS = (NEW, UPDATE, UNCHANGED, ERROR)


class CellValueError(ValueError):
    """A cell that cannot be read; the message is shown to the user as is."""


class RowErrors(Exception):  # noqa: N818
    """Raised by ``commit`` when a service refuses rows: the whole import is rolled back and
    ``errors`` (CellError list) are reported."""

    def __init__(self, errors):
        super().__init__("; ".join(str(e) for e in errors))
        self.errors = list(errors)


class Skip:
    """Returned by ``Column.clean`` to leave the attribute as it is."""


SKIP = Skip()


@dataclass
class CellError:
    number: int
    column: str
    message: str

    def text(self) -> str:
        where = f"row {self.number}" if self.number else "file"
        if self.column:
            return f"{where}, column {self.column}: {self.message}"
        return f"{where}: {self.message}"

    def as_dict(self) -> dict:
        return {"row": self.number, "column": self.column, "message": self.message}

    def __str__(self):
        return self.text()


@dataclass
class RowResult:
    """What one spreadsheet row does (or why it cannot)."""

    number: int
    action: str = NEW
    instance: Any = None
    changes: dict = field(default_factory=dict)  # header -> (old shown, new shown)
    errors: list = field(default_factory=list)
    key: tuple | None = None  # normalised natural key (duplicate check)
    key_text: str = ""  # the key as the user wrote it, for messages
    values: dict = field(default_factory=dict)  # cleaned cells by header (for commit steps)
    extra: dict = field(default_factory=dict)
    checked: tuple = ()  # a new row's field values as validated (part of the digest)

    def error(self, column: str, message: str) -> None:
        self.errors.append(CellError(self.number, column, message))
        self.action = ERROR

    @property
    def is_error(self) -> bool:
        return bool(self.errors)

    def digest(self) -> str:
        """Action letter + short digest of what the row would change (compared at commit)."""
        payload = repr((self.action, self.key, sorted(self.changes.items()), self.checked))
        payload = payload.encode()
        return self.action[0] + hashlib.blake2b(payload, digest_size=4).hexdigest()[:7]


@dataclass
class ImportContext:
    """Everything a resource needs while one import runs."""

    user: Any
    run: Any = None
    options: dict = field(default_factory=dict)
    lookups: Any = None
    write: bool = False  # False while validating (preview), True inside the commit
    # the commit of a run whose preview passed: new rows' field checks are not repeated
    # (their values are in the plan digest, compared at the end; see validate_instance)
    preview_checked: bool = False
    headers: tuple = ()  # canonical headers present in the file
    rules: Any = None  # per-run cache for object rules (e.g. stock ownership)
    state: dict = field(default_factory=dict)  # per-run scratch space of the resource

    def __post_init__(self):
        if self.lookups is None:
            from admin_customisations.importing.keys import Lookups

            self.lookups = Lookups()

    @property
    def reason(self) -> str:
        if self.run is not None and self.run.pk:
            return self.run.history_reason
        return "Imported from a spreadsheet"


# ------------------------------------------------------------------ widgets (strict)


class StrictBooleanWidget(widgets.BooleanWidget):
    """TRUE/FALSE, yes/no, 1/0, y/n (any case); anything else is an error, not False."""

    TRUE_WORDS = {"1", "true", "yes", "y", "on", "x"}
    FALSE_WORDS = {"0", "false", "no", "n", "off"}

    def clean(self, value, row=None, **kwargs):
        text = str(value if value is not None else "").strip().lower()
        if text == "":
            return None
        if text in self.TRUE_WORDS:
            return True
        if text in self.FALSE_WORDS:
            return False
        raise CellValueError(f"'{value}' is not TRUE or FALSE (also accepted: yes/no, 1/0).")

    def render(self, value, obj=None, **kwargs):
        return bool(value) if value is not None else None


class ChoiceWidget(widgets.Widget):
    """A choice field by its label ("Damaged") or stored value ("55")."""

    def __init__(self, choices):
        super().__init__(coerce_to_string=False)
        self.choices = [(value, str(label)) for value, label in choices]

    def clean(self, value, row=None, **kwargs):
        text = str(value or "").strip()
        if text == "":
            return None
        for stored, label in self.choices:
            if text.lower() == label.lower() or text == str(stored):
                return stored
        allowed = ", ".join(label for _, label in self.choices)
        raise CellValueError(f"'{text}' is not one of the choices: {allowed}.")

    def render(self, value, obj=None, **kwargs):
        for stored, label in self.choices:
            if stored == value:
                return label
        return "" if value is None else str(value)


class StrictIntegerWidget(widgets.IntegerWidget):
    """A whole number ("3", "3.0", "1e3"); "1.5" is an error, not 1 (import-export's
    IntegerWidget truncates)."""

    def clean(self, value, row=None, **kwargs):
        text = str(value if value is not None else "").strip()
        if text == "":
            return None
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise CellValueError(f"'{text}' is not a whole number.") from None
        if not number.is_finite() or number != number.to_integral_value():
            raise CellValueError(f"'{text}' is not a whole number.")
        if abs(number) >= 10**18:  # beyond every integer column (BIGINT)
            raise CellValueError(f"'{text}' is too large.")
        return int(number)


# ------------------------------------------------------------------ columns


class Column:
    """One spreadsheet column: header, model attribute, widget, and what it means.

    ``importable=False`` columns are exported (derived figures such as "In stock") and
    accepted but ignored on import, so an exported file imports back unchanged.
    ``reference`` names a natural-key look-up kind (``keys.py``) for foreign keys.
    """

    def __init__(
        self,
        header: str,
        attribute: str | None = None,
        *,
        widget: widgets.Widget | None = None,
        required: bool = False,
        natural_key: bool = False,
        help: str = "",  # noqa: A002  (the design's name)
        example: str = "",
        importable: bool = True,
        reference: str | None = None,
        max_length: int | None = None,
        render=None,
    ):
        self.header = header
        self.attribute = attribute
        self.widget = widget or widgets.CharWidget()
        self.required = required
        self.natural_key = natural_key
        self.help = help
        self.example = example
        self.importable = importable
        self.reference = reference
        self.max_length = max_length
        self._render = render
        # import-export's CharWidget returns a str cell as it is: no call needed
        self._plain_text = type(self.widget) is widgets.CharWidget and self.widget.allow_blank
        self.field = Field(attribute=attribute, column_name=header, widget=self.widget)

    def __repr__(self):
        return f"Column({self.header!r}, {self.attribute!r})"

    # import
    def clean(self, raw: str, *, result: RowResult | None = None, ctx=None):
        """The cell as a Python value; raises CellValueError with a sentence."""
        text = raw.strip() if isinstance(raw, str) else raw
        if text in ("", None):
            if self.required:
                raise CellValueError("This column is required.")
        if self._plain_text and isinstance(text, str):
            value = text
        else:
            value = self._clean_widget(text)
        if isinstance(value, str) and self.max_length and len(value) > self.max_length:
            raise CellValueError(too_long(value, self.max_length))
        return value

    def _clean_widget(self, text):
        try:
            return self.widget.clean(text)
        except CellValueError:
            raise
        except (InvalidOperation, ValueError, TypeError, ArithmeticError):
            raise CellValueError(describe_bad_value(self.widget, text)) from None

    # export
    def render(self, obj):
        """A typed value for the writers (numbers, dates, booleans stay typed)."""
        if self._render is not None:
            return self._render(obj)
        value = self.field.get_value(obj) if self.attribute else None
        return self.show_typed(value)

    def show_typed(self, value):
        if isinstance(self.widget, (ChoiceWidget,)):
            return self.widget.render(value)
        if isinstance(value, models.Model):
            return str(value)
        if value is None:
            return None if not isinstance(self.widget, widgets.CharWidget) else ""
        return value

    def show(self, value) -> str:
        """A value as text for change summaries and digests."""
        if isinstance(value, models.Model):
            return getattr(value, "pathstring", None) or str(value)
        if isinstance(self.widget, ChoiceWidget):
            return self.widget.render(value)
        if isinstance(value, Decimal):
            return f"{value.normalize():f}"
        if isinstance(value, (date, datetime)):
            return value.isoformat()
        return "" if value is None else str(value)


def too_long(value: str, limit: int) -> str:
    shown = value if len(value) <= 40 else value[:37] + "…"
    return f"'{shown}' is too long: {len(value)} characters, at most {limit} allowed."


def describe_bad_value(widget, text) -> str:
    if isinstance(widget, widgets.IntegerWidget):
        return f"'{text}' is not a whole number."
    if isinstance(widget, (widgets.DecimalWidget, widgets.FloatWidget)):
        return f"'{text}' is not a number."
    if isinstance(widget, widgets.DateTimeWidget):
        return f"'{text}' is not a date and time (use YYYY-MM-DD HH:MM)."
    if isinstance(widget, widgets.DateWidget):
        return f"'{text}' is not a date (use YYYY-MM-DD, e.g. 2026-12-31)."
    return f"'{text}' cannot be read."


def text_column(header, attribute, model, **kwargs) -> Column:
    """A text column whose length limit is the model field's."""
    limit = model._meta.get_field(attribute).max_length
    return Column(header, attribute, max_length=limit, **kwargs)


_PLAIN_INTEGER = re.compile(r"-?[0-9]+")


class PlainDecimalWidget(widgets.DecimalWidget):
    """import-export's DecimalWidget, with a shortcut for cells that are plain whole
    numbers ("12", "-3"): no separators, so ``sanitize_separators`` (a locale look-up
    per cell) would return them unchanged."""

    def clean(self, value, row=None, **kwargs):
        if isinstance(value, str) and _PLAIN_INTEGER.fullmatch(value):
            return Decimal(value)
        return super().clean(value, row, **kwargs)


def decimal_column(header, attribute, **kwargs) -> Column:
    return Column(header, attribute, widget=PlainDecimalWidget(coerce_to_string=False), **kwargs)


def integer_column(header, attribute, **kwargs) -> Column:
    return Column(header, attribute, widget=StrictIntegerWidget(coerce_to_string=False), **kwargs)


def boolean_column(header, attribute, **kwargs) -> Column:
    return Column(header, attribute, widget=StrictBooleanWidget(coerce_to_string=False), **kwargs)


def date_column(header, attribute, **kwargs) -> Column:
    return Column(
        header,
        attribute,
        widget=widgets.DateWidget(format="%Y-%m-%d", coerce_to_string=False),
        **kwargs,
    )


def choice_column(header, attribute, model, **kwargs) -> Column:
    return Column(
        header, attribute, widget=ChoiceWidget(model._meta.get_field(attribute).choices), **kwargs
    )


def load_instances(queryset) -> list:
    """The queryset's objects built from ``values_list`` rows (database converters applied).

    For the rows an import compares against: Django's per-object ``__init__`` (defaults,
    descriptors, init signals) costs more than the comparison. Only for models without
    ``post_init`` receivers that matter (none for parts, templates, parameters)."""
    model = queryset.model
    attnames = [f.attname for f in model._meta.concrete_fields]
    objects = []
    for values in queryset.values_list(*attnames):
        obj = model.__new__(model)
        obj.__dict__.update(zip(attnames, values, strict=True))
        state = ModelState()
        state.adding = False
        state.db = queryset.db
        obj._state = state
        objects.append(obj)
    return objects


def attach(objects, field: str, related: dict) -> None:
    """Set ``obj.<field>`` from ``related`` ({id: object}) without a query."""
    attname = f"{field}_id"
    for obj in objects:
        pk = getattr(obj, attname)
        if pk is not None and pk in related:
            obj._state.fields_cache[field] = related[pk]


# ------------------------------------------------------------------ the resource base


class SheetResource:
    """Base of every resource (see the module docstring and docs/importing.md)."""

    model: type[models.Model]
    name: str = ""
    title: str = ""  # e.g. "Parts" (defaults to the model's verbose_name_plural)
    columns: list[Column] = []
    key_columns: tuple[str, ...] = ()
    permission: str = "change"
    select_related: tuple[str, ...] = ()
    description: str = ""
    always_validate: tuple[str, ...] = ()  # fields set from other cells (e.g. a tree's name)

    # ---------------------------------------------------------------- columns
    def get_title(self) -> str:
        return self.title or str(self.model._meta.verbose_name_plural).capitalize()

    def headers(self) -> list[str]:
        return [c.header for c in self.columns]

    def column(self, header: str) -> Column:
        for col in self.columns:
            if col.header == header:
                return col
        raise KeyError(header)

    def column_for_field(self, name: str) -> str:
        """The header of the column that sets model field ``name`` ('' if none)."""
        for col in self.columns:
            if col.attribute == name or (col.attribute or "").split("__")[0] == name:
                return col.header
        return ""

    def importable_columns(self, present) -> list[Column]:
        return [c for c in self.columns if c.importable and c.header in present]

    def _row_columns(self, ctx: ImportContext) -> list[Column]:
        """``importable_columns(ctx.headers)``, worked out once per run."""
        columns = ctx.state.get("_columns")
        if columns is None:
            columns = ctx.state["_columns"] = self.importable_columns(ctx.headers)
        return columns

    def required_headers(self) -> list[str]:
        return [c.header for c in self.columns if c.required]

    def example_path(self):
        from django.conf import settings

        return settings.BASE_DIR / "fixtures" / "examples" / f"{self.name}.csv"

    # ---------------------------------------------------------------- permissions
    def may_import(self, user) -> bool:
        """Import needs add AND change on the model (object rules are checked per row)."""
        from admin_customisations.permissions import user_may

        return user_may(user, "add", model=self.model) and user_may(
            user, "change", model=self.model
        )

    def may_export(self, user) -> bool:
        from admin_customisations.permissions import user_may

        return user_may(user, "view", model=self.model)

    # ---------------------------------------------------------------- export
    def queryset(self, user=None):
        qs = self.model._default_manager.all()
        if self.select_related:
            qs = qs.select_related(*self.select_related)
        return qs

    def export_row(self, obj, columns: list[Column] | None = None) -> list:
        return [col.render(obj) for col in (columns or self.columns)]

    def export_rows(self, queryset, columns: list[Column] | None = None, chunk_size=2000):
        """Rows for the writers, read in chunks (never the whole table in memory)."""
        for obj in queryset.iterator(chunk_size=chunk_size):
            yield self.export_row(obj, columns)

    # ---------------------------------------------------------------- import steps
    def row_key(self, row: dict) -> tuple | None:
        """The normalised natural key of a row (None: the row has no key values)."""
        values = tuple(" ".join(str(row.get(h, "")).split()).casefold() for h in self.key_columns)
        return values if any(values) else None

    def key_text(self, row: dict) -> str:
        shown = [f"{h} '{row.get(h, '').strip()}'" for h in self.key_columns if row.get(h, "")]
        return ", ".join(shown)

    def start(self, *, ctx: ImportContext) -> None:
        """Hook: once per run, before the first chunk (e.g. load ownership rules)."""

    def finish(self, *, ctx: ImportContext) -> None:
        """Hook: once per run, after the last chunk (inside the commit's transaction)."""

    def prepare(self, rows: list[tuple[int, dict]], *, ctx: ImportContext) -> None:
        """Bulk-resolve the natural keys of a chunk (one query per key kind)."""
        from admin_customisations.importing.keys import resolve

        for col in self.columns:
            if col.reference and col.header in ctx.headers:
                values = {row.get(col.header, "").strip() for _, row in rows}
                resolve(ctx.lookups, col.reference, values - {""})
        ctx.state["existing"] = self.find_existing(rows, ctx=ctx)

    def find_existing(self, rows, *, ctx) -> dict:
        """{normalised key: instance} of the existing objects the chunk's rows mean."""
        return {}

    def new_instance(self, row: dict, *, ctx: ImportContext):
        """A new object with the model's defaults (and ``created_by``).

        Copied from one prototype per run when every default is immutable: building a
        model instance field by field costs more than validating it."""
        prototype = ctx.state.get("_prototype")
        if prototype is None:
            prototype = self.model()
            if hasattr(prototype, "created_by_id") and ctx.user is not None and ctx.user.pk:
                prototype.created_by_id = ctx.user.pk
            mutable = any(
                f.has_default() and not isinstance(f.get_default(), _IMMUTABLE)
                for f in self.model._meta.concrete_fields
            )
            ctx.state["_prototype"] = prototype = prototype if not mutable else False
        if prototype is False:
            obj = self.model()
            if hasattr(obj, "created_by_id") and ctx.user is not None and ctx.user.pk:
                obj.created_by_id = ctx.user.pk
            return obj
        obj = self.model.__new__(self.model)
        obj.__dict__ = prototype.__dict__.copy()
        obj._state = ModelState()
        return obj

    def clean_reference(self, col: Column, text: str, *, ctx: ImportContext, result: RowResult):
        """The object a reference cell names; raises CellValueError (with did-you-mean)."""
        from admin_customisations.importing.keys import lookup

        if not text:
            if col.required:
                raise CellValueError("This column is required.")
            return None
        return lookup(ctx.lookups, col.reference, text)

    def build(self, row: dict, *, number: int = 0, ctx: ImportContext) -> RowResult:
        """One row: find the object by natural key, apply the cells, validate the model."""
        result = RowResult(number)
        result.key = self.row_key(row)
        result.key_text = self.key_text(row)
        if result.key is None:
            result.error(
                self.key_columns[0] if self.key_columns else "",
                "This column is required (it identifies the row).",
            )
            return result
        existing = ctx.state.get("existing", {}).get(result.key)
        updating = existing is not None
        instance = existing if updating else self.new_instance(row, ctx=ctx)
        result.action = UPDATE if updating else NEW
        result.instance = instance
        for col in self._row_columns(ctx):
            raw = row.get(col.header, "")
            try:
                if col.reference:
                    value = self.clean_reference(col, raw.strip(), ctx=ctx, result=result)
                else:
                    value = col.clean(raw, result=result, ctx=ctx)
                value = self.adjust(col, value, row=row, result=result, ctx=ctx)
            except CellValueError as error:
                result.error(col.header, str(error))
                continue
            result.values[col.header] = value
            if value is SKIP or col.attribute is None:
                continue
            value = self.default_for_empty(col, value)
            if not updating:
                setattr(instance, col.attribute, value)
                continue
            if col.reference and self._same_reference(instance, col, value):
                continue  # compared by id: the old related object is not loaded
            old = getattr(instance, col.attribute)
            if self.same(col, old, value):
                continue
            setattr(instance, col.attribute, value)
            result.changes[col.header] = (col.show(old), col.show(value))
        if result.errors:
            result.action = ERROR
            return result
        if updating and not result.changes:
            result.action = UNCHANGED
            return result
        self.validate_instance(result, ctx=ctx)
        return result

    def adjust(self, col, value, *, row, result, ctx):
        """Hook: change or refuse a cleaned value (raise CellValueError)."""
        return value

    def default_for_empty(self, col: Column, value):
        """An empty cell stores the field's empty value ('' for text, default for flags)."""
        if value is not None or col.attribute is None:
            return value
        try:
            model_field = self.model._meta.get_field(col.attribute)
        except Exception:  # noqa: BLE001 (attribute is not a field)
            return value
        if model_field.null:
            return None
        if model_field.has_default():
            return model_field.get_default()
        if isinstance(model_field, (models.CharField, models.TextField)):
            return ""
        return value

    def _same_reference(self, instance, col: Column, value) -> bool:
        attname = self.model._meta.get_field(col.attribute).attname
        new_id = value.pk if value is not None else None
        if value is not None and new_id is None:
            return False  # an object planned earlier in this file
        return getattr(instance, attname) == new_id

    def same(self, col: Column, old, new) -> bool:
        if isinstance(old, models.Model) or isinstance(new, models.Model):
            return getattr(old, "pk", None) == getattr(new, "pk", None) and (
                (old is None) == (new is None)
            )
        if col.natural_key and isinstance(old, str) and isinstance(new, str):
            return old.casefold() == new.casefold()  # a key's case is kept as stored
        return old == new

    def clean_exclude(self, ctx: ImportContext | None = None) -> list[str]:
        """Fields full_clean skips: foreign keys (resolved by natural key already), fields
        the model computes and, with ``ctx``, fields the file does not set (they keep
        their stored value or the model's default, both valid)."""
        if ctx is not None and "_exclude" in ctx.state:
            return ctx.state["_exclude"]
        set_by_file = (
            {c.attribute for c in self.importable_columns(ctx.headers) if c.attribute}
            if ctx is not None
            else None
        )
        exclude = [
            f.name
            for f in self.model._meta.concrete_fields
            if f.is_relation
            or not f.editable
            or f.primary_key
            or (
                set_by_file is not None
                and f.name not in set_by_file
                and f.name not in self.always_validate
            )
        ]
        if ctx is not None:
            ctx.state["_exclude"] = exclude
        return exclude

    def _checked_fields(self, ctx: ImportContext) -> list:
        """The fields ``clean_fields`` validates (not excluded), once per run."""
        fields = ctx.state.get("_checked_fields")
        if fields is None:
            exclude = set(self.clean_exclude(ctx))
            fields = [f for f in self.model._meta.concrete_fields if f.name not in exclude]
            ctx.state["_checked_fields"] = fields
        return fields

    def validate_instance(self, result: RowResult, *, ctx: ImportContext) -> None:
        """full_clean without unique checks (those run in bulk in ``check_chunk``).

        A new row's field values (what ``clean_fields`` validates: lengths, choices,
        digits, blank) go into its plan digest. At the commit of a validated run
        (``ctx.preview_checked``) those values are therefore the preview's — else the plan
        differs and the whole commit is refused and rolled back — and every field
        validator is a function of the value alone, so ``clean_fields`` is not repeated;
        the model's ``clean()`` (it reads the database: categories, templates) and all
        look-ups and bulk checks still run on every row. Updated rows are fully checked
        (their other values come from the database)."""
        instance = result.instance
        try:
            if result.action == NEW:
                result.checked = tuple(
                    getattr(instance, f.attname) for f in self._checked_fields(ctx)
                )
                if ctx.preview_checked:
                    instance.clean()
                    return
            instance.full_clean(
                exclude=self.clean_exclude(ctx), validate_unique=False, validate_constraints=False
            )
        except ValidationError as error:
            for column, message in field_error_messages(error, self.column_for_field):
                result.error(column, message)

    def check_chunk(self, results: list[RowResult], *, ctx: ImportContext) -> None:
        """Bulk checks over a chunk's valid rows: uniqueness, object rules."""

    def update_fields(self, updated: list[RowResult]) -> list[str]:
        """The model fields the chunk's updated rows change (for bulk_update)."""
        return sorted({self.column(h).attribute.split("__")[0] for r in updated for h in r.changes})

    def commit(self, results: list[RowResult], *, ctx: ImportContext) -> None:
        """Write a chunk's new and updated rows, each with its history row (importing user,
        reason "Imported from <file> (import #N)"); see ``saving.py``."""
        from admin_customisations.importing.saving import create_with_history, update_with_history

        new = [r.instance for r in results if r.action == NEW]
        updated = [r for r in results if r.action == UPDATE]
        if new:
            create_with_history(self.model, new, user=ctx.user, reason=ctx.reason)
        if updated:
            fields = {id(r.instance): self.update_fields([r]) for r in updated}
            update_with_history(
                self.model,
                [r.instance for r in updated],
                lambda obj: fields[id(obj)],
                user=ctx.user,
                reason=ctx.reason,
            )


# ------------------------------------------------------------------ registry

_registry: dict[str, type[SheetResource]] = {}
_discovered = False


def register(resource_cls: type[SheetResource]) -> type[SheetResource]:
    """Class decorator: make a resource available to the import/export pages."""
    _registry[resource_cls.name] = resource_cls
    return resource_cls


def _discover() -> None:
    """Import every app's ``resources`` module once (each registers its resources).

    A module that fails to import is logged and skipped, so one app's broken resource
    does not take every other import page down with it."""
    global _discovered
    if _discovered:
        return
    import logging
    from importlib import import_module
    from importlib.util import find_spec

    from django.apps import apps

    _discovered = True
    for app_config in apps.get_app_configs():
        name = f"{app_config.name}.resources"
        try:
            if find_spec(name) is None:
                continue
            import_module(name)
        except ModuleNotFoundError as error:
            if error.name != name:
                logging.getLogger(__name__).exception("Cannot load %s", name)
        except Exception:  # noqa: BLE001
            logging.getLogger(__name__).exception("Cannot load %s", name)


def all_resources() -> list[SheetResource]:
    _discover()
    return [cls() for cls in _registry.values()]


def resource_for(model_or_name) -> SheetResource | None:
    """The resource registered for a model class (or under a name); None without one."""
    _discover()
    if isinstance(model_or_name, str):
        cls = _registry.get(model_or_name)
        return cls() if cls else None
    for cls in _registry.values():
        if cls.model is model_or_name:
            return cls()
    return None
