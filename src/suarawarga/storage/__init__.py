"""Persistence: SQLAlchemy 2 tables, repositories and the unit of work; the only package using SQLAlchemy."""
