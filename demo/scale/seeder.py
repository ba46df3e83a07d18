"""The generator put together, and its run: one transaction, rows streamed, then checked."""

from typing import Any

from django.db import connection, transaction
from psycopg import sql

from .casework import Casework
from .loader import Writer, check_foreign_keys, drop_indexes, restore_indexes
from .people import People
from .roster import Roster
from .sharing import Sharing
from .tables import CLIENT_TABLES


class ScaleSeeder(Roster, People, Casework, Sharing):
    """``run()`` fills the database: the roster, then the clients chunk by chunk, and returns
    what the command reports (row counts, the large agency, the logins, the sample)."""

    def run(self) -> dict[str, Any]:
        with transaction.atomic(), connection.cursor() as cursor:
            for table in self.tables.values():
                cursor.execute(
                    sql.SQL("SELECT COALESCE(MAX(id), 0) FROM {}").format(
                        sql.Identifier(table.name)
                    )
                )
                table.last_id = table.first_id = cursor.fetchone()[0]
            cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            bulk_checks = cursor.fetchone()[0]
            if bulk_checks:
                # A foreign key checked by its trigger costs more than the row itself: skip the
                # triggers for this transaction only and check every key of every new row in
                # one anti-join per key before committing (check_foreign_keys). CHECK, UNIQUE
                # and NOT NULL constraints are enforced by COPY as always.
                cursor.execute("SET LOCAL session_replication_role = replica")
            else:
                # Checked as each COPY ends rather than all at once at the commit.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            dropped = drop_indexes(cursor, [self.tables[key] for key in CLIENT_TABLES])
            connection.ensure_connection()
            self.writer = Writer(connection.connection)
            self.writer.start()
            try:
                self._roster()
                self._clients()
            finally:
                self.writer.close()
            self._consultation_staff(cursor)
            restore_indexes(cursor, dropped)
            self.progress(f"{self._elapsed()}  {len(dropped)} indexes and unique constraints built")
            if bulk_checks:
                cursor.execute("SET LOCAL session_replication_role = DEFAULT")
                check_foreign_keys(cursor, list(self.tables.values()))
                self.progress(f"{self._elapsed()}  every foreign key checked")
            else:
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            for table in self.tables.values():
                if table.count:
                    cursor.execute(
                        "SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)",
                        [table.name, table.last_id],
                    )
        self.progress(f"{self._elapsed()}  committed; vacuuming and analysing")
        # VACUUM as autovacuum would after a while: the visibility map it sets is what lets the
        # caseload's counts be an index-only scan. (Inside a test's transaction only ANALYZE.)
        command = "ANALYZE {}" if connection.in_atomic_block else "VACUUM (ANALYZE) {}"
        with connection.cursor() as cursor:
            for table in self.tables.values():
                cursor.execute(sql.SQL(command).format(sql.Identifier(table.name)))
        self.progress(f"{self._elapsed()}  done")
        return {
            "counts": {t.name: t.count for t in self.tables.values()},
            "large": self.large,
            "admin": self.admin_username,
            "sample": self.sample,
        }
