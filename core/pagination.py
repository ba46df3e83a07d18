"""Keyset pagination: "rows after this one" instead of OFFSET, so page 50 costs what page 1 does.

The cursor is the last row's ordering values, opaque to the user (base64 JSON). Ordering fields
must end with a unique field (usually ``id``) so the order is total; a leading ``-`` makes a
field descending (newest first), as in ``order_by``.
"""

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet

# 25 rows: a screenful to scan, and a page that renders in a few milliseconds and stays
# under 60 KB of HTML whatever its rows hold (docs/performance.md).
DEFAULT_PAGE_SIZE = 25


@dataclass(frozen=True)
class KeysetPage:
    items: list[Any]
    next_cursor: str | None

    @property
    def has_next(self) -> bool:
        return self.next_cursor is not None


def _encode(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values, default=str).encode()).decode()


def _decode(cursor: str, width: int) -> list[Any] | None:
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    if not isinstance(values, list) or len(values) != width:
        return None
    return values


def _after(fields: list[str], values: list[Any]) -> Q:
    """(f1, f2, …) > (v1, v2, …) in lexicographic order; "after" is "below" for a ``-field``."""
    condition = Q()
    for index in range(len(fields) - 1, -1, -1):
        name = fields[index].removeprefix("-")
        lookup = "lt" if fields[index].startswith("-") else "gt"
        step = Q(**{f"{name}__{lookup}": values[index]})
        if index < len(fields) - 1:
            step |= Q(**{name: values[index]}) & condition
        condition = step
    # The same bound again on the first field alone: (a > x) OR (a = x AND …) is not an index
    # range to PostgreSQL, but a >= x AND (…) is, so page 50 reads what page 1 does.
    first = fields[0].removeprefix("-")
    bound = "lte" if fields[0].startswith("-") else "gte"
    return Q(**{f"{first}__{bound}": values[0]}) & condition


def keyset_page(
    queryset: QuerySet, *, ordering: list[str], cursor: str | None, size: int = DEFAULT_PAGE_SIZE
) -> KeysetPage:
    """One page of ``queryset`` ordered by ``ordering``, starting after ``cursor``.

    An unreadable cursor starts from the beginning rather than failing: it only ever comes from
    a link we made, or from someone editing the URL.
    """
    queryset = queryset.order_by(*ordering)
    if cursor:
        values = _decode(cursor, len(ordering))
        values = _typed(queryset.model, ordering, values) if values is not None else None
        if values is not None:
            queryset = queryset.filter(_after(ordering, values))
    rows = list(queryset[: size + 1])
    next_cursor = None
    if len(rows) > size:
        rows = rows[:size]
        last = rows[-1]
        next_cursor = _encode([_value(last, field) for field in ordering])
    return KeysetPage(items=rows, next_cursor=next_cursor)


def _value(row: Any, field: str) -> Any:
    value = row
    for part in field.removeprefix("-").split("__"):
        value = getattr(value, part)
    return value


def _typed(model, ordering: list[str], values: list[Any]) -> list[Any] | None:
    """The cursor's values as the fields' own types, or None when one does not fit (an edited
    URL): the page then starts from the beginning instead of failing."""
    typed = []
    for field_path, value in zip(ordering, values, strict=True):
        current = model
        field = None
        for part in field_path.removeprefix("-").split("__"):
            field = current._meta.get_field(part)
            current = field.related_model or current
        try:
            typed.append(None if value is None else field.to_python(value))
        except (ValidationError, TypeError, ValueError):
            return None
    return typed


# --- Keyset over rows that are not one model's (a UNION of several, ordered by annotations) ---


def cursor_for(values: list[Any]) -> str:
    """The opaque cursor of a row whose ordering values are ``values``."""
    return _encode(values)


def cursor_values(cursor: str | None, width: int) -> list[Any] | None:
    """The raw values of a cursor (JSON types: the caller types them), or None if unreadable."""
    return _decode(cursor, width) if cursor else None


def rows_after(ordering: list[str], values: list[Any]) -> Q:
    """The condition "after ``values``" for ``ordering``: each part of a UNION is filtered with
    it before they are combined (a combined query cannot be filtered)."""
    return _after(ordering, values)
