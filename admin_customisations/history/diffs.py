"""Readable differences between history records: the one renderer of every history view.

Every object's History tab, the version (revert) page and the system-wide change log show
changes through ``diff_records``:

* choice fields by label ("Attention needed → OK"), booleans as Yes/No;
* foreign keys by the related object's name, linked to its admin page; "—" when empty and
  "deleted <model> #id" only when that row no longer exists (looked up in one query per
  related model for a whole page of records, not one per value);
* a cleared value as "old → —", a new one as "— → new";
* quantities and prices as the stock pages show them (``10``, ``2.5``, no trailing zeros);
* long text as a compact inline diff (removed words struck through, added ones marked);
* a stock tracking entry's JSON details in words (``inventory.admin.timeline``).
"""

import difflib
import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.db import models
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import capfirst

EMPTY = "—"
# Values longer than this (or any TextField value) are shown as an inline diff.
LONG_TEXT = 60
# Inline diffs keep this many unchanged words around each change.
CONTEXT_WORDS = 4

# Never worth a line in a diff: derived from other fields, or stamped on every save.
IGNORED_FIELDS = frozenset(
    {"pathstring", "tree_path", "level", "reference_int", "serial_int", "bom_checksum"}
)


def _describe_tracking_deltas(value):
    from inventory.admin.timeline import describe_deltas

    return describe_deltas(value or {})


# JSON fields rendered in words, by "<app>.<model>.<field>".
JSON_DESCRIBERS = {"inventory.stockitemtracking.deltas": _describe_tracking_deltas}


@dataclass(frozen=True)
class FieldChange:
    """One changed field, ready for a template: ``old``/``new`` or, for long text, ``inline``."""

    name: str
    label: str
    old: SafeString
    new: SafeString
    inline: SafeString | None = None

    def as_html(self) -> SafeString:
        """ "Label: old → new" (or the inline diff) as one line of HTML."""
        body = (
            self.inline if self.inline is not None else format_html("{} → {}", self.old, self.new)
        )
        return format_html("<strong>{}</strong>: {}", self.label, body)


def diffable_fields(model) -> list[models.Field]:
    """The fields of ``model`` whose changes a diff shows: those its history records keep."""
    manager = (
        model._meta.simple_history_manager_attribute
        if hasattr(model._meta, "simple_history_manager_attribute")
        else None
    )
    kept = None
    if manager:
        kept = {f.name for f in getattr(model, manager).model.tracked_fields}
    return [
        f
        for f in model._meta.concrete_fields
        if (kept is None or f.name in kept)
        and not f.primary_key
        and f.name not in IGNORED_FIELDS
        and not getattr(f, "auto_now", False)
        and not getattr(f, "auto_now_add", False)
    ]


class RelatedNames:
    """Foreign-key ids resolved to linked names, one query per related model."""

    def __init__(self):
        self._wanted: dict[type[models.Model], set] = defaultdict(set)
        self._found: dict[tuple[type[models.Model], object], models.Model] = {}
        self._resolved: set[type[models.Model]] = set()

    def want(self, model, pk) -> None:
        if pk is not None and (model, pk) not in self._found:
            self._wanted[model].add(pk)
            self._resolved.discard(model)

    def _resolve(self, model) -> None:
        ids = self._wanted.pop(model, set())
        if ids:
            for obj in model._base_manager.filter(pk__in=ids):
                self._found[(model, obj.pk)] = obj
        self._resolved.add(model)

    def render(self, model, pk) -> SafeString:
        if pk is None or pk == "":
            return mark_safe(EMPTY)
        if model not in self._resolved or pk in self._wanted.get(model, ()):
            self.want(model, pk)
            self._resolve(model)
        obj = self._found.get((model, pk))
        if obj is None:
            return format_html("deleted {} #{}", model._meta.verbose_name, pk)
        return admin_link(obj)


def admin_link(obj, text=None) -> SafeString:
    """``obj``'s name linked to its admin change page (plain text if it has none)."""
    opts = obj._meta
    text = str(obj) if text is None else text
    try:
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    except NoReverseMatch:
        return format_html("{}", text)
    return format_html('<a href="{}">{}</a>', url, text)


def format_quantity(value) -> str:
    """A number as the stock pages show it: 10, 2.5 (no trailing zeros or exponent)."""
    return f"{Decimal(str(value)).normalize():f}"


def format_value(model, field: models.Field, value, related: RelatedNames) -> SafeString:
    """One field value as a user reads it (HTML-escaped)."""
    if field.is_relation:
        return related.render(field.related_model, value)
    if value is None or value == "":
        return mark_safe(EMPTY)
    if field.choices:
        labels = dict(field.flatchoices)
        return format_html("{}", labels.get(value, value))
    if isinstance(field, models.BooleanField):
        return mark_safe("Yes" if value else "No")
    if isinstance(field, models.DecimalField | models.FloatField):
        return format_html("{}", format_quantity(value))
    if isinstance(value, datetime):
        return format_html("{}", timezone.localtime(value).strftime("%Y-%m-%d %H:%M"))
    if isinstance(value, date):
        return format_html("{}", value.isoformat())
    if isinstance(field, models.JSONField):
        describe = JSON_DESCRIBERS.get(f"{model._meta.label_lower}.{field.name}")
        if describe is not None:
            return describe(value) or mark_safe(EMPTY)
        return format_html("{}", json.dumps(value, sort_keys=True, default=str))
    return format_html("{}", value)


def inline_text_diff(old: str, new: str) -> SafeString:
    """Words removed and added between two texts, with a little context around each change."""
    before, after = (old or "").split(), (new or "").split()
    pieces = []
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    opcodes = matcher.get_opcodes()
    for index, (tag, a0, a1, b0, b1) in enumerate(opcodes):
        if tag == "equal":
            words = before[a0:a1]
            first, last = index == 0, index == len(opcodes) - 1
            if len(words) > CONTEXT_WORDS * 2 or (first or last) and len(words) > CONTEXT_WORDS:
                head = [] if first else words[:CONTEXT_WORDS]
                tail = [] if last else words[-CONTEXT_WORDS:]
                pieces.append(escape(" ".join(head)))
                pieces.append("…")
                pieces.append(escape(" ".join(tail)))
            else:
                pieces.append(escape(" ".join(words)))
            continue
        if a1 > a0:
            pieces.append(f'<del class="history-removed">{escape(" ".join(before[a0:a1]))}</del>')
        if b1 > b0:
            pieces.append(f'<ins class="history-added">{escape(" ".join(after[b0:b1]))}</ins>')
    return mark_safe(" ".join(p for p in pieces if p))


def _is_long_text(field, old, new) -> bool:
    if not isinstance(old, str | type(None)) or not isinstance(new, str | type(None)):
        return False
    if field.choices:
        return False
    return isinstance(field, models.TextField) or max(len(old or ""), len(new or "")) > LONG_TEXT


def _raw(record, field):
    return getattr(record, field.attname)


def changed_field_names(model, older, newer) -> list[str]:
    """Names of the fields whose values differ between two versions (records or instances)."""
    return [f.name for f in diffable_fields(model) if _raw(older, f) != _raw(newer, f)]


def diff_records(model, pairs, *, related: RelatedNames | None = None) -> list[list[FieldChange]]:
    """For each ``(older, newer)`` pair of versions of ``model`` objects (historical records
    or model instances; ``older`` may be None for a creation), the changed fields, rendered.

    Foreign keys of all pairs are looked up together: one query per related model."""
    related = related or RelatedNames()
    fields = diffable_fields(model)
    changed: list[list[models.Field]] = []
    for older, newer in pairs:
        names = [] if older is None else [f for f in fields if _raw(older, f) != _raw(newer, f)]
        for f in names:
            if f.is_relation:
                related.want(f.related_model, _raw(older, f))
                related.want(f.related_model, _raw(newer, f))
        changed.append(names)
    result = []
    for (older, newer), names in zip(pairs, changed, strict=True):
        result.append([_change(model, f, _raw(older, f), _raw(newer, f), related) for f in names])
    return result


def _change(model, field, old, new, related) -> FieldChange:
    label = capfirst(str(field.verbose_name))
    if _is_long_text(field, old, new):
        return FieldChange(
            field.name,
            label,
            format_value(model, field, old, related),
            format_value(model, field, new, related),
            inline=inline_text_diff(old, new),
        )
    return FieldChange(
        field.name,
        label,
        format_value(model, field, old, related),
        format_value(model, field, new, related),
    )


def summary_html(changes: list[FieldChange]) -> SafeString:
    """The changes as a compact list (one line per field)."""
    return format_html_join(mark_safe("<br>"), "{}", ((c.as_html(),) for c in changes))
