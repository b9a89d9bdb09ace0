"""Core statements compiled once per dialect and run on the connection's DB-API cursor.

On the per-ticket hot path (``kiosk.storage.numbering``, ``kiosk.storage.queue_cache.bump``) SQLAlchemy's
execution machinery (execution context, result set-up, event dispatch) costs several times what SQLite
takes to run the statement. A ``Prepared`` statement keeps the SQL SQLAlchemy compiled for the dialect
(table, quoting, ``RETURNING``, ``ON CONFLICT``) and hands it and its parameters straight to the DB-API
cursor of the SQLAlchemy connection, inside that connection's transaction, applying the dialect's type
processing of the parameters (SQLite: a ``Float`` column's value made a float) as SQLAlchemy would.
A database error is raised as SQLAlchemy's own (``sqlalchemy.exc.DBAPIError`` and its subclasses), the
connection invalidated when the database dropped it, as ``Connection.execute`` would. When the engine has
cursor-execute listeners (instrumentation, tests), the same SQL goes through ``exec_driver_sql`` instead, so
they see every statement.
"""

from __future__ import annotations

from typing import Callable, Sequence

import sqlalchemy as sa


class Prepared:
    """``build(dialect name, n)`` gives the statement for ``n`` rows of parameters (1: a one-row statement)."""

    def __init__(self, build: Callable[[str, int], sa.sql.ClauseElement], keys: Sequence[str] | None = None):
        self._build = build
        self._keys = list(keys) if keys is not None else None  # an INSERT's columns, in this order
        self._compiled: dict[tuple[str, int], tuple] = {}

    def _compile(self, dialect: sa.Dialect, rows: int) -> tuple:
        """(SQL, bound names in order or None for named parameters, fixed values, type processors)."""
        key = (dialect.name, rows)
        found = self._compiled.get(key)
        if found is None:
            stmt = self._build(dialect.name, rows)
            c = stmt.compile(dialect=dialect, column_keys=self._keys)
            processors = {name: p for name, p in (c._bind_processors or {}).items() if p is not None}
            order = tuple(c.positiontup) if dialect.positional else None
            # values written into the statement (``last + 1``, a status): bound like the caller's
            fixed = {name: bp.effective_value for name, bp in c.binds.items() if not bp.required}
            found = self._compiled[key] = (c.string, order, fixed, processors)
        return found

    def execute(self, conn: sa.Connection, params: dict, rows: int = 1):
        """Run in ``conn``'s transaction; a cursor (``fetchone``, ``fetchall``) is returned.

        With ``rows`` > 1, ``params`` holds each row's values under ``NAME_m<i>`` (SQLAlchemy's names
        for a multi-row ``INSERT ... VALUES``).
        """
        sql, order, fixed, processors = self._compile(conn.dialect, rows)
        if fixed:
            params = {**fixed, **params}
        if processors:  # the dialect's type conversions (SQLite: a Float column's value to float)
            params = dict(params)
            for name, process in processors.items():
                params[name] = process(params[name])
        bound = tuple([params[name] for name in order]) if order is not None else params
        dispatch = conn.dispatch
        if dispatch.before_cursor_execute or dispatch.after_cursor_execute:  # someone watches the statements
            return conn.exec_driver_sql(sql, bound)
        cursor = conn.connection.dbapi_connection.cursor()
        try:
            cursor.execute(sql, bound)
        except Exception as exc:
            if not isinstance(exc, conn.dialect.loaded_dbapi.Error):
                raise
            conn._handle_dbapi_exception(exc, sql, bound, cursor, None)  # raises the wrapped error
            raise
        return cursor

    def scalar(self, conn: sa.Connection, params: dict):
        """The first column of the first row, or None when there is none."""
        row = self.execute(conn, params).fetchone()
        return None if row is None else row[0]


def multi_row(params: Sequence[dict]) -> dict:
    """Rows of parameters as one multi-row statement's (``Prepared.execute`` with ``rows=len(params)``)."""
    out: dict = {}
    for i, row in enumerate(params):
        for name, value in row.items():
            out[f"{name}_m{i}"] = value
    return out
