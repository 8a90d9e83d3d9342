"""Compact cells for the part and stock lists, so both fit a 1,440 px screen (docs/stock.md,
"List layout"): tree paths that wrap at their separators, the part's type as short chips,
the stock figures of a part in one cell. The column widths are in
admin_customisations/static/admin_customisations/lists.css."""

from functools import cache

from django.template.loader import render_to_string
from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import mark_safe

# the part's type flags as chips: (field, chip text, what it means)
FLAG_CHIPS = [
    ("assembly", "assembly", "Assembly: built from other parts (has a BOM)"),
    ("component", "component", "Component: can be used in the BOM of an assembly"),
    ("trackable", "trackable", "Trackable: stock carries serial numbers or batch codes"),
    ("purchaseable", "buy", "Purchaseable: bought from suppliers"),
    ("salable", "sell", "Salable: sold to customers"),
    ("virtual", "virtual", "Virtual: holds no stock"),
    ("is_template", "template", "Template: has variants"),
]


def path_cell(path: str):
    """A category or location path that may wrap after each "/": the ancestors muted, the
    node itself plain; the whole path in the tooltip (and the text, for copying)."""
    if not path:
        return "–"
    *ancestors, leaf = path.split("/")
    return format_html(
        '<span class="list-path" title="{}"><span class="text-base-500">{}</span>{}</span>',
        path,
        format_html_join("", "{}/<wbr>", ((name,) for name in ancestors)),
        leaf,
    )


def flag_chips(part):
    chips = [(title, text) for field, text, title in FLAG_CHIPS if getattr(part, field)]
    if not chips:
        return "–"
    return format_html(
        '<span class="list-chips">{}</span>',
        format_html_join("", '<span class="list-chip" title="{}">{}</span>', chips),
    )


@cache
def _label_markup(kind: str | None) -> tuple[str, str]:
    html = render_to_string("unfold/helpers/label.html", {"text": "\x00", "type": kind})
    before, after = html.split("\x00")
    return before.strip(), after.strip()


def label(text: str, kind: str | None):
    """unfold's label badge (the markup its ``@display(label=...)`` renders), its template
    rendered once per kind rather than once per row."""
    before, after = _label_markup(kind)
    return mark_safe(f"{before}{escape(text)}{after}")  # noqa: S308 - text escaped


def figure_cell(badge, notes: list[str]):
    """A badge with small notes under it (e.g. "12 available · 4 on order"); the line
    breaks between notes, not inside one."""
    notes = [note for note in notes if note]
    if not notes:
        return badge
    return format_html(
        '{}<span class="list-note">{}</span>',
        badge,
        format_html_join(" · ", "<span>{}</span>", ((note,) for note in notes)),
    )
