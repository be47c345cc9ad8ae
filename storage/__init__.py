"""Storage: SQLModel tables, the engine and session setup, migrations and query helpers."""
