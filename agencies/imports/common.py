"""What the imports and exports share: the report of an import, who may import, the batch
size of the bulk queries, and writing and reading back a CSV cell (the writer is
core.csv_export's, which every export uses)."""

from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext, ngettext

from accounts.models import User
from core.csv_export import unneutralise

from ..municipality_list import RowError
from ..permissions import is_system_admin

BATCH_SIZE = 500


def _check_may_import(actor: User | None) -> None:
    """Only system admins import; ``None`` is the system itself (the management commands)."""
    if actor is not None and not is_system_admin(actor):
        raise PermissionDenied


@dataclass
class ImportReport:
    """What an import did, or, when ``errors`` is not empty, why it wrote nothing."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def bad_lines(self) -> list[int]:
        return sorted({error.line for error in self.errors})

    def summary(self) -> str:
        if self.errors:
            count = len(self.bad_lines)
            return ngettext(
                "%(count)s row is bad; nothing was imported.",
                "%(count)s rows are bad; nothing was imported.",
                count,
            ) % {"count": count}
        return gettext(
            "Imported: %(created)s created, %(updated)s updated, %(unchanged)s unchanged."
        ) % {"created": self.created, "updated": self.updated, "unchanged": self.unchanged}

    def audit_changes(self) -> dict[str, list[Any]]:
        return {
            "created": [None, self.created],
            "updated": [None, self.updated],
            "unchanged": [None, self.unchanged],
        }


def _read_cell(raw: str) -> str:
    """A cell of an imported file as the import takes it: trimmed, and without the quote our
    export puts before a formula-like value, so an export imported again is unchanged."""
    return unneutralise(raw.strip())
