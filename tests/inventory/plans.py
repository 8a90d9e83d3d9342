"""Query plans of admin pages, for the EXPLAIN guards (test_explain, test_part_list_order)."""

from django.db import connection


def page_queries(client, url) -> list[tuple[str, list]]:
    """(sql, params) of every query the page ran; the page must answer 200."""
    queries = []

    def record(execute, sql, params, many, context):
        queries.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        response = client.get(url)
    assert response.status_code == 200, url
    return queries


def plan(sql, params, *, forbid_sort: bool = False) -> list[str]:
    """SQLite's ``EXPLAIN QUERY PLAN`` lines, or PostgreSQL's ``EXPLAIN`` with sequential
    scans (and, with ``forbid_sort``, sorts) disabled, so a plan that needs one shows it."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            return [row[-1] for row in cursor.fetchall()]
        cursor.execute("SET LOCAL enable_seqscan = off")
        if forbid_sort:
            cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return [row[0] for row in cursor.fetchall()]
