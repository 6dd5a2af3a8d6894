"""Persistence: SQLAlchemy 2 tables, repositories and the unit of work; the only package using SQLAlchemy.

Each aggregate has two modules: a port, `storage/<name>.py` (its repositories as Protocols and the frozen
dataclasses they take and return; no SQLAlchemy, so a fake can implement it), and its SQL implementation,
`storage/<name>_sql.py`. `base_sql.py` holds the tables as Core objects, the dialect's upsert and `SqlRepo`;
`uow.py` is the `UnitOfWork` port, the one list of repositories; `uow_sql.py` binds the SQL classes to it.

To add a repository: write its Protocol (and values) in a port module, its class in a `*_sql.py` module, one
attribute in `UnitOfWork` (uow.py) and one line in `SqlUnitOfWork._bind` (uow_sql.py); mypy rejects a port
attribute left unbound or a class that does not match its Protocol. Only the composition root imports `*_sql`.
"""
