"""Lazy, paginated tabs on an object's change page (the part page's stock, allocations,
orders, builds, where-used and history).

A tab is a list of read-only tables of rows related to the object. The change page only
carries the tab's title and an empty panel; the panel is fetched (htmx) from the admin
sub-URL ``<object id>/tab/<slug>/`` the first time it is shown, and each table pages on
with its own ``?<table>-page=N``. A page costs a fixed number of queries whatever the
object holds: each table's ``rows(obj)`` is an ordered queryset with its links
``select_related``, and a page reads ``per_page + 1`` rows (the extra row says whether
there is a next page; nothing is counted).

Permissions: a table is shown only to users who may view its model, a tab only if one of
its tables is; a cell links to an object only if the user may view that object's model
(``admin_customisations.permissions.user_may``). The sub-URL answers GET only.

Unfold renders the tab titles beside the inline tabs: a tab is handed to the change form
as one of unfold's "datasets" (``tab = True``), whose ``contents`` is the lazy panel.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseNotAllowed
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from admin_customisations.permissions import user_may


@dataclass(frozen=True)
class Link:
    """A cell linking to ``obj``'s change page (plain text for users who may not view it)."""

    obj: object
    text: str = ""


@dataclass(frozen=True)
class Table:
    """Rows of ``model`` related to the object: ``rows(obj)`` is an ordered queryset;
    ``columns`` are (header, cell(row)) pairs, a cell giving text or a ``Link``."""

    key: str
    title: str
    model: type
    rows: Callable
    columns: list[tuple[str, Callable]]
    per_page: int = 25
    empty: str = "None."
    more: Callable | None = None  # more(obj) -> (text, url) of the full list, if any

    def visible_to(self, user) -> bool:
        return user_may(user, "view", model=self.model)


@dataclass(frozen=True)
class ObjectTab:
    slug: str
    title: str
    tables: list[Table] = field(default_factory=list)
    applies: Callable = lambda obj: True  # e.g. only assemblies have builds

    def tables_for(self, user) -> list[Table]:
        return [table for table in self.tables if table.visible_to(user)]


class _LazyPanel:
    """What unfold's change form expects of a dataset: a tab title and ``contents``."""

    tab = True

    def __init__(self, tab: ObjectTab, url: str):
        self.title = tab.title
        self.model_name = f"tab-{tab.slug}"  # unfold's tab id is "dataset-<model_name>"
        self.url = url

    @property
    def contents(self):
        return render_to_string(
            "admin_customisations/tabs/lazy_panel.html",
            {"panel_id": f"dataset-{self.model_name}", "url": self.url, "title": self.title},
        )


def _page_number(request, key) -> int:
    try:
        return max(int(request.GET.get(f"{key}-page", 1)), 1)
    except ValueError:
        return 1


def _cell(user, value, may_view: dict):
    if isinstance(value, Link):
        model = type(value.obj)
        if model not in may_view:
            may_view[model] = user_may(user, "view", model=model)
        text = value.text or str(value.obj)
        if not may_view[model]:
            return text
        opts = model._meta
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[value.obj.pk])
        return format_html('<a href="{}" class="text-primary-600">{}</a>', url, text)
    return "–" if value in (None, "") else value


def render_table(request, obj, table: Table, tab_url: str) -> dict:
    """One page of ``table``: headers, rows of cells, previous/next page URLs."""
    page = _page_number(request, table.key)
    start = (page - 1) * table.per_page
    rows = list(table.rows(obj)[start : start + table.per_page + 1])
    has_next = len(rows) > table.per_page
    rows = rows[: table.per_page]
    may_view: dict = {}

    def page_url(number):
        params = request.GET.copy()
        params[f"{table.key}-page"] = number
        return f"{tab_url}?{params.urlencode()}"

    more = table.more(obj) if table.more else None
    return {
        "key": table.key,
        "title": table.title,
        "headers": [header for header, _cell_of in table.columns],
        "rows": [
            [_cell(request.user, cell_of(row), may_view) for _header, cell_of in table.columns]
            for row in rows
        ],
        "empty": table.empty,
        "page": page,
        "previous_url": page_url(page - 1) if page > 1 else None,
        "next_url": page_url(page + 1) if has_next else None,
        "more": more,
    }


class ObjectTabsMixin:
    """ModelAdmin mixin: ``object_tabs`` (a list of ObjectTab) on the change page, each
    fetched lazily from ``<object id>/tab/<slug>/``."""

    object_tabs: list[ObjectTab] = []

    def _tab_url_name(self):
        opts = self.model._meta
        return f"{opts.app_label}_{opts.model_name}_tab"

    def get_urls(self):
        view = path(
            "<path:object_id>/tab/<slug:slug>/",
            self.admin_site.admin_view(self.object_tab_view),
            name=self._tab_url_name(),
        )
        return [view, *super().get_urls()]

    def visible_object_tabs(self, request, obj) -> list[ObjectTab]:
        return [
            tab for tab in self.object_tabs if tab.applies(obj) and tab.tables_for(request.user)
        ]

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and obj.pk is not None:
            panels = [
                _LazyPanel(tab, reverse(f"admin:{self._tab_url_name()}", args=[obj.pk, tab.slug]))
                for tab in self.visible_object_tabs(request, obj)
            ]
            context["datasets"] = [*(context.get("datasets") or []), *panels]
        return super().render_change_form(request, context, add, change, form_url, obj)

    def object_tab_view(self, request, object_id, slug):
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404("No such object.")
        if not self.has_view_permission(request, obj):
            raise PermissionDenied
        tab = next((t for t in self.object_tabs if t.slug == slug and t.applies(obj)), None)
        if tab is None:
            raise Http404("No such tab.")
        tables = tab.tables_for(request.user)
        if not tables:
            raise PermissionDenied
        if request.method != "GET":  # a read: nothing to post
            return HttpResponseNotAllowed(["GET"])
        url = reverse(f"admin:{self._tab_url_name()}", args=[obj.pk, tab.slug])
        return TemplateResponse(
            request,
            "admin_customisations/tabs/tab.html",
            {
                "tab": tab,
                "panel_id": f"dataset-tab-{tab.slug}",
                "tables": [render_table(request, obj, table, url) for table in tables],
            },
        )
