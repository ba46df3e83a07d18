"""The one CSV writer of every export, which keeps a cell from running as a spreadsheet formula.

A cell that starts with ``=``, ``+``, ``-`` or ``@`` is a formula to Excel and LibreOffice
(``=HYPERLINK(...)``, ``@SUM(...)``, ``-2+3``), and a leading tab or carriage return is skipped
before that test by some of them. Anyone who can name an agency, a person or a staff member
could otherwise plant a formula in the spreadsheet of the system admin or supervisor who opens
the export (CSV/formula injection). Following OWASP, such a text cell is written with a single
quote in front (``'=HYPERLINK(...)``): the spreadsheet shows it as text, and a person reading
the file still sees what was typed.

Numbers: a text cell that is a plain number (``-3``, ``+81``, ``-0.5``: an optional sign, ASCII
digits, an optional decimal part, nothing else) is left as it is; a spreadsheet reads it as the
number it is and it runs nothing. Anything else that starts with one of those characters is
quoted, even if it looks harmless: a phone number ``+81-3-1234-5678`` or ``-1e5`` becomes
``'+81-3-1234-5678``; telling a harmless expression from a formula is exactly what the rule
refuses to guess. Cells that are not text (numbers, dates) are written as the csv module writes
them, unchanged; ``None`` is an empty cell.

The quote is part of the file, so an import of our own export takes it off again:
``unneutralise`` removes one leading quote when a dangerous character follows it, and nothing
else (a cell that only starts with a quote is kept as typed).

The dialect is the csv module's ``excel`` (comma, ``"`` quoting only where needed, ``\\r\\n``),
what every export has always written; the byte-order mark for Excel is the caller's, because
the municipality export leaves it out by default and the downloads put it in front.
"""

import csv
import re
from collections.abc import Iterable, Iterator
from typing import Any

FORMULA_STARTS = frozenset({"=", "+", "-", "@", "\t", "\r"})

_PLAIN_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?", re.ASCII)


def neutralise(value: Any) -> Any:
    """The cell as it is written: a text cell that a spreadsheet would run gets a ``'`` first."""
    if value is None:
        return ""
    if (
        isinstance(value, str)
        and value[:1] in FORMULA_STARTS
        and not _PLAIN_NUMBER.fullmatch(value)
    ):
        return f"'{value}"
    return value


def unneutralise(value: str) -> str:
    """A cell read back from one of our exports, without the quote ``neutralise`` put in."""
    if value[:1] == "'" and value[1:2] in FORMULA_STARTS:
        return value[1:]
    return value


class _Echo:
    """What csv.writer writes to: each row comes straight back as text."""

    def write(self, value: str) -> str:
        return value


def csv_lines(header: Iterable[Any], rows: Iterable[Iterable[Any]]) -> Iterator[str]:
    """The header, then each row, each as one CSV line (with its ``\\r\\n``), read from
    ``rows`` only as the lines are taken: fit to stream."""
    writer = csv.writer(_Echo(), lineterminator="\r\n")
    yield writer.writerow([neutralise(cell) for cell in header])
    for row in rows:
        yield writer.writerow([neutralise(cell) for cell in row])


def csv_text(header: Iterable[Any], rows: Iterable[Iterable[Any]]) -> str:
    """The whole file as one string."""
    return "".join(csv_lines(header, rows))
