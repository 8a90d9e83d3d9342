"""A paginator for changelists over big tables: never counts every row.

``COUNT(*)`` over a million rows costs seconds on SQLite. This paginator counts at most
``cap + 1`` rows (``SELECT COUNT(*) FROM (... LIMIT cap + 1)``, which the same indexes as the
page serve). Below the cap the count is exact. Above it, PostgreSQL shows an estimate (the
planner's: ``pg_class.reltuples`` for an unfiltered table, the ``EXPLAIN`` row estimate for
a filtered list) as "about 1,000,000", and SQLite shows "10,000+". Pages beyond the capped
count stay reachable: asking for page 500 counts the rows from that page's first on (at most
one page and one row: ``COUNT(*)`` over ``LIMIT 51 OFFSET``) and extends the page range to
it, so the page shows its full 50 rows and a next page when there is one.

Use it on a ModelAdmin with ``paginator = LargeTablePaginator`` (together with
``show_full_result_count = False``, the base admin's default).

``IndexOrderChangeList`` (``get_changelist`` returns it) makes the primary-key tie-breaker
Django adds to a sorted list follow the first column's direction (``status, pk`` /
``-status, -pk``), so one index on ``(column, id)`` serves both directions of a click.
"""

import json

from django.core.paginator import EmptyPage, Paginator
from django.db import connections
from django.utils.functional import cached_property
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from unfold.views import ChangeList


class CappedCount(int):
    """A lower bound: "10,000+"."""

    def __str__(self):
        return f"{int(self):,}+"


class EstimatedCount(int):
    """The database's estimate: "about 1,000,000"."""

    def __str__(self):
        return f"about {int(self):,}"


class LargeTablePaginator(Paginator):
    cap = 10_000

    @cached_property
    def count(self):
        queryset = self.object_list
        if not hasattr(queryset, "query"):
            return super().count
        counted = queryset.order_by()[: self.cap + 1].count()
        if counted <= self.cap:
            return counted
        estimate = estimated_rows(queryset)
        if estimate is not None and estimate > self.cap:
            return EstimatedCount(estimate)
        return CappedCount(self.cap)

    def validate_number(self, number):
        try:
            return super().validate_number(number)
        except EmptyPage:
            if not isinstance(self.count, CappedCount | EstimatedCount):
                raise
            number = int(number)  # validated as an integer above
            bottom = (number - 1) * self.per_page
            if number < 1:
                raise
            # rows from this page's first on, one more than a page: none, the last page
            # (the total is now exact) or a full page with more after it (a lower bound)
            after = self.object_list.order_by()[bottom : bottom + self.per_page + 1].count()
            if not after:
                raise
            total = bottom + after
            self.__dict__["count"] = CappedCount(total) if after > self.per_page else total
            self.__dict__.pop("num_pages", None)
            return number


def estimated_rows(queryset) -> int | None:
    """PostgreSQL's row estimate for ``queryset`` (None on other databases)."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    query = queryset.order_by().query
    with connection.cursor() as cursor:
        if not query.where:
            cursor.execute(
                "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
                [queryset.model._meta.db_table],
            )
            row = cursor.fetchone()
            if row and row[0] > 0:
                return int(row[0])
        sql, params = query.sql_with_params()
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


class IndexOrderChangeList(ChangeList):
    def _get_deterministic_ordering(self, ordering):
        ordering = super()._get_deterministic_ordering(ordering)
        # the tie-breakers are the admin's default "-pk" (kept after a click) and Django's
        core = [part for part in ordering if part not in ("pk", "-pk")]
        if not core or core == ordering:
            return ordering
        first = core[0]
        descending = (isinstance(first, str) and first.startswith("-")) or getattr(
            first, "descending", False
        )
        return [*core, "-pk" if descending else "pk"]

    # unfold's row renderer recomputes every column header (sort links, the select-all
    # checkbox widget) for each row; this list computes them once per page (see below)
    cache_result_headers = True


def _patch_unfold_result_headers():
    """Make ``unfold.templatetags.unfold_list.result_headers`` compute a page's headers once.

    unfold 0.91's ``items_for_result`` calls ``result_headers(cl)`` for every row to label
    its cells: 50 rows render the select-all checkbox template and build every sort URL 51
    times (about a fifth of the stock list's render time). The headers depend only on the
    changelist, so for changelists that set ``cache_result_headers`` (``IndexOrderChangeList``)
    the first list is kept on the changelist and returned again; others are unchanged.
    """
    from unfold.templatetags import unfold_list

    original = unfold_list.result_headers
    if getattr(original, "caches_per_changelist", False):
        return

    def result_headers(cl):
        if not getattr(cl, "cache_result_headers", False):
            return original(cl)
        if "_result_headers" not in cl.__dict__:
            cl.__dict__["_result_headers"] = list(original(cl))
        return iter(cl.__dict__["_result_headers"])

    result_headers.caches_per_changelist = True
    unfold_list.result_headers = result_headers


_patch_unfold_result_headers()


_CHECKBOX_VALUE = "\x00pk\x00"
_checkbox_parts: dict[str, tuple[str, str]] = {}


def action_checkbox_html(pk) -> SafeString:
    """unfold's row checkbox for ``pk`` (the same HTML as ``unfold.admin.checkbox.render``),
    rendered from the template once per language instead of once per row."""
    from django.contrib.admin import helpers
    from unfold.admin import checkbox

    language = get_language() or ""
    if language not in _checkbox_parts:
        html = checkbox.render(helpers.ACTION_CHECKBOX_NAME, _CHECKBOX_VALUE)
        before, _, after = html.partition(_CHECKBOX_VALUE)
        _checkbox_parts[language] = (before, after)
    before, after = _checkbox_parts[language]
    return mark_safe(before + conditional_escape(str(pk)) + after)  # noqa: S308 (escaped)
