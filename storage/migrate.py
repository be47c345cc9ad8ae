"""Alembic migrations, run programmatically: `python -m storage.migrate` (Procfile release)."""
from __future__ import annotations

import sys
from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(database_url: str) -> Config:
    """An Alembic config pointing at this package's migrations and the given database."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring the database schema up to `revision`."""
    command.upgrade(alembic_config(database_url), revision)


def main() -> None:
    """Upgrade the configured database to the latest schema."""
    from config import load_settings

    upgrade(load_settings()["DATABASE_URL"])
    print("database schema is up to date", file=sys.stderr)


if __name__ == "__main__":
    main()
