"""The migrations build exactly the schema the models describe (no drift either way)."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (registers every table)


def test_the_migrated_database_matches_the_models(app):
    with app.extensions["db_engine"].connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert differences == []
