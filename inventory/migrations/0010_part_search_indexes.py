"""Search indexes for parts that only one database can have (inventory/search.py).

PostgreSQL: ``text_pattern_ops`` / ``varchar_pattern_ops`` B-trees so ``lower(ipn) LIKE 'x%'``,
``lower(name) LIKE 'x%'`` and ``ipn LIKE 'x%'`` use an index under any collation (a plain
B-tree serves LIKE only under the C collation), and a GIN index on the words of name,
description and keywords for full-text search.

SQLite: an FTS5 table ``inventory_part_fts`` over the same three columns, an external-content
index of ``inventory_part`` kept in sync by triggers, filled from the existing rows.

Nothing happens on other databases. SQL is written here (not imported) so the migration
stays what it was when later code changes.
"""

from django.db import migrations

PG_FORWARD = [
    "CREATE INDEX part_ipn_pattern_idx ON inventory_part (ipn varchar_pattern_ops)",
    "CREATE INDEX part_ipn_lower_pattern_idx ON inventory_part (lower(ipn) text_pattern_ops)",
    "CREATE INDEX part_name_lower_pattern_idx ON inventory_part (lower(name) text_pattern_ops)",
    "CREATE INDEX part_text_search_idx ON inventory_part USING gin "
    "(to_tsvector('simple'::regconfig, name || ' ' || description || ' ' || keywords))",
]
PG_BACKWARD = [
    "DROP INDEX IF EXISTS part_ipn_pattern_idx",
    "DROP INDEX IF EXISTS part_ipn_lower_pattern_idx",
    "DROP INDEX IF EXISTS part_name_lower_pattern_idx",
    "DROP INDEX IF EXISTS part_text_search_idx",
]

_FTS_INSERT = (
    "INSERT INTO inventory_part_fts(rowid, name, description, keywords) "
    "VALUES (new.id, new.name, new.description, new.keywords);"
)
_FTS_DELETE = (
    "INSERT INTO inventory_part_fts(inventory_part_fts, rowid, name, description, keywords) "
    "VALUES ('delete', old.id, old.name, old.description, old.keywords);"
)
SQLITE_FORWARD = [
    "CREATE VIRTUAL TABLE inventory_part_fts USING fts5("
    "name, description, keywords, content='inventory_part', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 2')",
    f"CREATE TRIGGER inventory_part_fts_ai AFTER INSERT ON inventory_part BEGIN {_FTS_INSERT} END",
    f"CREATE TRIGGER inventory_part_fts_ad AFTER DELETE ON inventory_part BEGIN {_FTS_DELETE} END",
    "CREATE TRIGGER inventory_part_fts_au AFTER UPDATE OF name, description, keywords "
    f"ON inventory_part BEGIN {_FTS_DELETE} {_FTS_INSERT} END",
    "INSERT INTO inventory_part_fts(inventory_part_fts) VALUES ('rebuild')",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS inventory_part_fts_ai",
    "DROP TRIGGER IF EXISTS inventory_part_fts_ad",
    "DROP TRIGGER IF EXISTS inventory_part_fts_au",
    "DROP TABLE IF EXISTS inventory_part_fts",
]


def _run(schema_editor, statements):
    for sql in statements.get(schema_editor.connection.vendor, []):
        schema_editor.execute(sql)


def forward(apps, schema_editor):
    _run(schema_editor, {"postgresql": PG_FORWARD, "sqlite": SQLITE_FORWARD})


def backward(apps, schema_editor):
    _run(schema_editor, {"postgresql": PG_BACKWARD, "sqlite": SQLITE_BACKWARD})


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0009_stocklocation_items_stored"),
    ]

    operations = [migrations.RunPython(forward, backward)]
