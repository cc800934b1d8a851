"""The record: SQLAlchemy 2 async engine, sessions and tables (SQLite by default, PostgreSQL in teams)."""
