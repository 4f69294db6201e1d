"""Alembic migrations of the records schema."""
