"""item_search: the full-text index of the items readers follow (SQLite
FTS5, PostgreSQL tsvector with GIN), of words already stemmed by lenta
(lenta.search)

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Not in lenta.storage.schema's metadata: an FTS5 table is no table
    # SQLAlchemy describes. Filled for followed feeds by lenta.storage._search
    # (and `lenta search-index`); nothing to fill yet, as nobody follows anything.
    if op.get_bind().dialect.name == "sqlite":
        # rowid is the item's id; ``words`` its title's stems then its body's,
        # stemmed already, so the tokenizer only splits them (no diacritics
        # folding: "ё" is kept). One column, as PostgreSQL's document is one.
        op.execute("CREATE VIRTUAL TABLE item_search USING fts5(words, tokenize = 'unicode61 remove_diacritics 0')")
        op.execute(
            "CREATE TRIGGER item_search_forget AFTER DELETE ON items BEGIN DELETE FROM item_search WHERE rowid = old.id; END"
        )
    else:
        op.execute(
            "CREATE TABLE item_search (item_id INTEGER PRIMARY KEY REFERENCES items (id) ON DELETE CASCADE, "
            "document TSVECTOR NOT NULL)"
        )
        op.execute("CREATE INDEX ix_item_search_document ON item_search USING GIN (document)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER item_search_forget")
    op.execute("DROP TABLE item_search")
