"""search: Finnish lemmas and compound parts beside each message's words, folded letters

Each message gets ``search_lemmas`` (the lemmas and compound parts of its words, folded:
helpdesk/words.py) and ``search_version`` (which lemmatiser made them; NULL until
`helpdesk search reindex` or a new write fills them). The full-text indexes take the new
column in and fold ä/ö/å and other accents: SQLite's FTS5 table is made again with
``remove_diacritics 2`` and rebuilt from the messages; PostgreSQL's generated
``search_vector`` is redefined over the folded text (a table rewrite and a new GIN index).

Existing messages are searchable as before (every word as a prefix, now also without
ä/ö) right after this revision; their lemmas come with `helpdesk search reindex`.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04 19:50:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0017'
down_revision: str | Sequence[str] | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FTS_COLUMNS = "subject, text, from_address, from_name"
FTS_NEW = FTS_COLUMNS + ", search_lemmas"


def _sqlite_fts(columns: str, diacritics: int) -> list[str]:
    new = ", ".join(f"new.{c.strip()}" for c in columns.split(","))
    old = ", ".join(f"old.{c.strip()}" for c in columns.split(","))
    return [
        "DROP TRIGGER IF EXISTS message_fts_ai",
        "DROP TRIGGER IF EXISTS message_fts_ad",
        "DROP TRIGGER IF EXISTS message_fts_au",
        "DROP TABLE IF EXISTS message_fts",
        f"""CREATE VIRTUAL TABLE message_fts USING fts5({columns},
            content='message', content_rowid='id',
            tokenize="unicode61 remove_diacritics {diacritics}")""",
        f"""CREATE TRIGGER message_fts_ai AFTER INSERT ON message BEGIN
            INSERT INTO message_fts(rowid, {columns}) VALUES (new.id, {new}); END""",
        f"""CREATE TRIGGER message_fts_ad AFTER DELETE ON message BEGIN
            INSERT INTO message_fts(message_fts, rowid, {columns})
            VALUES ('delete', old.id, {old}); END""",
        f"""CREATE TRIGGER message_fts_au AFTER UPDATE OF {columns} ON message BEGIN
            INSERT INTO message_fts(message_fts, rowid, {columns})
            VALUES ('delete', old.id, {old});
            INSERT INTO message_fts(rowid, {columns}) VALUES (new.id, {new}); END""",
        "INSERT INTO message_fts(message_fts) VALUES ('rebuild')",
    ]


# PostgreSQL folds with translate() (immutable, no extension needed), after lower(), the
# letters helpdesk.words.fold folds in Finnish and nearby languages' text.
ACCENTED = "äöåüéèêëáàâãíìîïóòôõúùûçñšžýÿ"
PLAIN = "aoaueeeeaaaaiiiioooouuucnszyy"
PG_NEW = [
    "DROP INDEX IF EXISTS ix_message_search",
    "ALTER TABLE message DROP COLUMN IF EXISTS search_vector",
    f"""ALTER TABLE message ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
        to_tsvector('simple', translate(lower(coalesce(subject, '') || ' '
        || coalesce(from_address, '') || ' ' || coalesce(from_name, '') || ' '
        || left(coalesce(text, ''), 200000)), '{ACCENTED}', '{PLAIN}')
        || ' ' || search_lemmas)) STORED""",
    "CREATE INDEX ix_message_search ON message USING gin (search_vector)",
]
PG_OLD = [
    "DROP INDEX IF EXISTS ix_message_search",
    "ALTER TABLE message DROP COLUMN IF EXISTS search_vector",
    """ALTER TABLE message ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
        to_tsvector('simple', coalesce(subject, '') || ' ' || coalesce(from_address, '')
        || ' ' || coalesce(from_name, '') || ' ' || left(coalesce(text, ''), 200000))) STORED""",
    "CREATE INDEX ix_message_search ON message USING gin (search_vector)",
]
assert len(ACCENTED) == len(PLAIN)


def upgrade() -> None:
    op.add_column(
        'message', sa.Column('search_lemmas', sa.Text(), nullable=False, server_default='')
    )
    op.add_column('message', sa.Column('search_version', sa.Integer(), nullable=True))
    if op.get_bind().dialect.name == "sqlite":
        statements = _sqlite_fts(FTS_NEW, 2)
    else:
        statements = PG_NEW
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        # The old FTS table first: its triggers must not name the columns dropped below.
        for statement in _sqlite_fts(FTS_COLUMNS, 0)[:4]:
            op.execute(statement)
    else:
        for statement in PG_NEW[:2]:
            op.execute(statement)
    op.drop_column('message', 'search_version')
    op.drop_column('message', 'search_lemmas')
    for statement in _sqlite_fts(FTS_COLUMNS, 0) if sqlite else PG_OLD:
        op.execute(statement)
