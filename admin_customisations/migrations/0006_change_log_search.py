"""Full-text indexes of the change log's reason and object name (history/search.py).

PostgreSQL: a GIN index per column on ``to_tsvector('simple', column)``, punctuation turned
into spaces first (its parser reads "HB-3" as "hb" and the number "-3"; FTS5 and the search
split words at punctuation). SQLite: the FTS5
table ``admin_customisations_changelog_fts`` over both columns, an external-content index of
the log kept by insert/delete triggers (entries are never updated), filled from existing rows.
SQL is written here, not imported, so the migration stays what it was.
"""

from django.db import migrations

PG_FORWARD = [
    "CREATE INDEX changelog_reason_text_idx ON admin_customisations_changelogentry "
    "USING gin (to_tsvector('simple'::regconfig, regexp_replace(reason, '[^[:alnum:]]+', ' ', 'g')))",
    "CREATE INDEX changelog_object_text_idx ON admin_customisations_changelogentry "
    "USING gin (to_tsvector('simple'::regconfig, regexp_replace(object_repr, '[^[:alnum:]]+', ' ', 'g')))",
]
PG_BACKWARD = [
    "DROP INDEX IF EXISTS changelog_reason_text_idx",
    "DROP INDEX IF EXISTS changelog_object_text_idx",
]
_TABLE = "admin_customisations_changelogentry"
_FTS = "admin_customisations_changelog_fts"
SQLITE_FORWARD = [
    f"CREATE VIRTUAL TABLE {_FTS} USING fts5(reason, object_repr, content='{_TABLE}', "
    "content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    f"CREATE TRIGGER {_FTS}_ai AFTER INSERT ON {_TABLE} BEGIN "
    f"INSERT INTO {_FTS}(rowid, reason, object_repr) VALUES (new.id, new.reason, new.object_repr); END",
    f"CREATE TRIGGER {_FTS}_ad AFTER DELETE ON {_TABLE} BEGIN "
    f"INSERT INTO {_FTS}({_FTS}, rowid, reason, object_repr) "
    "VALUES ('delete', old.id, old.reason, old.object_repr); END",
    f"CREATE TRIGGER {_FTS}_au AFTER UPDATE OF reason, object_repr ON {_TABLE} BEGIN "
    f"INSERT INTO {_FTS}({_FTS}, rowid, reason, object_repr) "
    "VALUES ('delete', old.id, old.reason, old.object_repr); "
    f"INSERT INTO {_FTS}(rowid, reason, object_repr) VALUES (new.id, new.reason, new.object_repr); END",
    f"INSERT INTO {_FTS}({_FTS}) VALUES ('rebuild')",
]
SQLITE_BACKWARD = [
    f"DROP TRIGGER IF EXISTS {_FTS}_ai",
    f"DROP TRIGGER IF EXISTS {_FTS}_ad",
    f"DROP TRIGGER IF EXISTS {_FTS}_au",
    f"DROP TABLE IF EXISTS {_FTS}",
]


def _run(schema_editor, statements):
    for sql in statements.get(schema_editor.connection.vendor, []):
        schema_editor.execute(sql)


def forward(apps, schema_editor):
    _run(schema_editor, {"postgresql": PG_FORWARD, "sqlite": SQLITE_FORWARD})


def backward(apps, schema_editor):
    _run(schema_editor, {"postgresql": PG_BACKWARD, "sqlite": SQLITE_BACKWARD})


class Migration(migrations.Migration):
    dependencies = [("admin_customisations", "0005_change_log")]

    operations = [migrations.RunPython(forward, backward)]
