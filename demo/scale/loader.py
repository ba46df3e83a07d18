"""Rows into PostgreSQL through ``COPY``: the buffered tables, the writer thread, and the
index and foreign-key machinery that makes a bulk load of empty tables fast and still checked."""

import queue
import threading
from typing import Any

from django.db.models import Model
from psycopg import sql


class Table:
    """One table's buffered rows, its columns from the model's ``_meta`` and its next id."""

    def __init__(self, model: type[Model], fields: list[str]) -> None:
        meta = model._meta
        self.model = model
        self.name = meta.db_table
        self.columns = [meta.get_field(name).column for name in fields]
        # Every NOT NULL column must be given: COPY does not apply Django's defaults.
        missing = [
            f.name
            for f in meta.concrete_fields
            if not f.null
            and f.name not in fields
            and not f.has_db_default()
            and not f.generated  # computed by the database (a GeneratedField)
        ]
        if missing:
            raise ValueError(f"{self.name}: no value for NOT NULL {missing}")
        self.rows: list[tuple] = []
        self.first_id = self.last_id = 0
        self.count = 0

    def next_id(self) -> int:
        self.last_id += 1
        return self.last_id

    def take(self) -> list[tuple]:
        rows, self.rows = self.rows, []
        self.count += len(rows)
        return rows

    def copy(self, cursor, rows: list[tuple]) -> None:
        if not rows:
            return
        query = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(self.name), sql.SQL(", ").join(map(sql.Identifier, self.columns))
        )
        # COPY's text format built here: several times faster than write_row per value.
        with cursor.copy(query) as copy:
            for start in range(0, len(rows), 5_000):
                copy.write(
                    "".join(
                        "\t".join([_text(value) for value in row]) + "\n"
                        for row in rows[start : start + 5_000]
                    )
                )

    def foreign_keys(self) -> list[tuple[str, str, str]]:
        """(column, referenced table, referenced column) of each foreign key written."""
        keys = []
        for f in self.model._meta.concrete_fields:
            if f.is_relation and f.db_constraint and f.column in self.columns:
                target = f.target_field
                keys.append((f.column, target.model._meta.db_table, target.column))
        return keys


def _text(value: Any) -> str:
    """One value in COPY's text format."""
    kind = type(value)
    if kind is str:
        if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
            return (
                value.replace("\\", "\\\\")
                .replace("\t", "\\t")
                .replace("\n", "\\n")
                .replace("\r", "\\r")
            )
        return value
    if kind is int:
        return str(value)
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    return str(value)


class Writer(threading.Thread):
    """Writes the chunks through the same connection (so in the same transaction) while the
    next chunk is generated: PostgreSQL's work overlaps Python's, on a second core."""

    def __init__(self, raw_connection) -> None:
        super().__init__(name="seed_scale writer", daemon=True)
        self.raw_connection = raw_connection
        self.queue: queue.Queue = queue.Queue(maxsize=1)
        self.error: BaseException | None = None

    def run(self) -> None:
        while (batch := self.queue.get()) is not None:
            if self.error is not None:
                continue
            try:
                with self.raw_connection.cursor() as cursor:
                    for table, rows in batch:
                        table.copy(cursor, rows)
            except BaseException as error:  # handed to the main thread by put() or close()
                self.error = error

    def put(self, batch: list) -> None:
        if self.error is not None:
            raise self.error
        self.queue.put(batch)

    def close(self) -> None:
        self.queue.put(None)
        self.join()
        if self.error is not None:
            raise self.error


def drop_indexes(cursor, tables: list[Table]) -> list[tuple[str, str]]:
    """Drop the secondary indexes and unique constraints of ``tables`` that are still empty
    (the client tables: the command refuses a database with clients), to build each once at
    the end from sorted data instead of updating it row by row: several times faster. Returned
    as the statements that restore them, run in this same transaction (``restore_indexes``), so
    the database never commits without them and a duplicate still fails the whole run."""
    restore: list[tuple[str, str]] = []
    for table in tables:
        if table.first_id:
            continue
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype = 'u' ORDER BY conname",
            [table.name],
        )
        constraints = cursor.fetchall()
        cursor.execute(
            "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x "
            "JOIN pg_class i ON i.oid = x.indexrelid WHERE x.indrelid = %s::regclass "
            "AND NOT x.indisprimary AND NOT EXISTS "
            "(SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid) "
            "ORDER BY i.relname",
            [table.name],
        )
        indexes = cursor.fetchall()
        for name, definition in constraints:
            cursor.execute(
                sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(
                    sql.Identifier(table.name), sql.Identifier(name)
                )
            )
            restore.append((table.name, f"ADD CONSTRAINT {name} {definition}"))
        for name, definition in indexes:
            cursor.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
            restore.append((table.name, definition))
    return restore


def restore_indexes(cursor, restore: list[tuple[str, str]]) -> None:
    cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
    for table, statement in restore:
        if statement.startswith("ADD CONSTRAINT"):
            cursor.execute(
                sql.SQL("ALTER TABLE {} ").format(sql.Identifier(table)).as_string(cursor)
                + statement
            )
        else:
            cursor.execute(statement)


def check_foreign_keys(cursor, tables: list[Table]) -> None:
    """Every foreign key of every row written points at a row: one anti-join per key."""
    for table in tables:
        if not table.count:
            continue
        for column, parent, parent_column in table.foreign_keys():
            query = sql.SQL(
                "SELECT count(*) FROM {t} c WHERE c.id > %s AND c.{c} IS NOT NULL "
                "AND NOT EXISTS (SELECT 1 FROM {p} p WHERE p.{pc} = c.{c})"
            ).format(
                t=sql.Identifier(table.name),
                c=sql.Identifier(column),
                p=sql.Identifier(parent),
                pc=sql.Identifier(parent_column),
            )
            cursor.execute(query, [table.first_id])
            broken = cursor.fetchone()[0]
            if broken:
                raise RuntimeError(f"{table.name}.{column}: {broken} rows point at nothing")
