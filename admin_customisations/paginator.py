"""A paginator for changelists over big tables: never counts every row.

``COUNT(*)`` over a million rows costs seconds on SQLite. This paginator counts at most
``cap + 1`` rows (``SELECT COUNT(*) FROM (... LIMIT cap + 1)``, which the same indexes as the
page serve). Below the cap the count is exact. Above it, PostgreSQL shows an estimate (the
planner's: ``pg_class.reltuples`` for an unfiltered table, the ``EXPLAIN`` row estimate for
a filtered list) as "about 1,000,000", and SQLite shows "10,000+". Pages beyond the capped
count stay reachable: asking for page 500 checks that the page has rows (one indexed
``LIMIT 1 OFFSET``) and extends the page range to it.

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
            if number < 1 or not self.object_list[bottom : bottom + 1].exists():
                raise
            # the page exists: the total is at least this page's first row
            self.__dict__["count"] = CappedCount(max(bottom + 1, self.count))
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
