"""What a request left in the database: a fingerprint of every table's content, and where a
submitted value ended up.

PostgreSQL's write counters (``tests.matrix.http.writes``) also count rows a service wrote and
then rolled back when it refused; the fingerprint compares content, so it only sees what stayed.
"""

from django.db import connection

# Written by every request or by design on a refusal, not by the form: a look at a client
# (the access log), failed logins (django-axes' records), sessions.
NOT_THE_FORMS = frozenset(
    {
        "audit_accessentry",
        "axes_accessattempt",
        "axes_accessfailurelog",
        "axes_accesslog",
        "django_session",
    }
)
TEXT_TYPES = ("text", "character varying")


def _tables() -> list[str]:
    return sorted(set(connection.introspection.table_names()) - NOT_THE_FORMS)


def fingerprint(tables: list[str] | None = None) -> dict[str, str]:
    """{table: md5 of its rows}, of ``tables`` (every table of the project) in one query."""
    tables = _tables() if tables is None else tables
    if not tables:
        return {}
    quote = connection.ops.quote_name
    # Table and column names come from the database's own catalogue, quoted: no input in them.
    digest = "md5(coalesce(string_agg(md5(t::text), '' ORDER BY md5(t::text)), ''))"
    parts = [f"SELECT %s, {digest} FROM {quote(table)} t" for table in tables]  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), tables)
        return dict(cursor.fetchall())


def changed(before: dict[str, str], after: dict[str, str]) -> list[str]:
    return sorted(table for table in after if after[table] != before.get(table))


def _contains(column: str, kind: str) -> str:
    """SQL: the column holds the parameter (a JSON array's strings one by one: JSON's own
    text escapes quotes and control characters)."""
    if kind == "ARRAY":
        return f"strpos(array_to_string({column}, ' '), %s) > 0"
    if kind == "jsonb":
        elements = f"jsonb_array_elements_text({column})"
        return f"jsonb_typeof({column}) = 'array' AND EXISTS (SELECT 1 FROM {elements} e WHERE strpos(e, %s) > 0)"  # noqa: S608, E501
    return f"strpos({column}, %s) > 0"


def stored_in(tables: list[str], value: str) -> bool:
    """Whether ``value`` is in a text column (or a text array) of one of ``tables``."""
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = ANY(%s) "
            "AND (data_type = ANY(%s) OR data_type = 'jsonb' "
            "OR (data_type = 'ARRAY' AND udt_name IN ('_text', '_varchar')))",
            [tables, list(TEXT_TYPES)],
        )
        columns = cursor.fetchall()
        for table, column, kind in columns:
            where = _contains(quote(column), kind)
            cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {quote(table)} WHERE {where})", [value])  # noqa: S608
            if cursor.fetchone()[0]:
                return True
    return False
