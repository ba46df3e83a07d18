"""A partner's live view of another agency's record of a person, category by category, as the
consent gate lets it through.
"""

from dataclasses import dataclass
from uuid import UUID

from django.http import Http404

from agencies.permissions import Viewer
from cases.models import Client
from core.records import DataCategory

from . import gate
from .gate import Decision, RecordAccess
from .record_data import RecordSection, record_data, record_sections


@dataclass(frozen=True)
class SharedSection:
    section: RecordSection
    decision: Decision


@dataclass(frozen=True)
class SharedRecord:
    """Another agency's record of a person as this viewer may see it now: every category is
    there, either with its data and the basis that lets it through, or as a placeholder."""

    client: Client
    access: RecordAccess
    sections: list[SharedSection]

    @property
    def person_name(self) -> str:
        return self.client.full_name if self.access.allows(DataCategory.BASIC) else ""


def shared_record_get(*, viewer: Viewer, public_id: UUID) -> SharedRecord:
    """The live view of a partner's record. The gate decides and logs the look (or the refused
    attempt); an agency with no link and no basis gets a 404."""
    client = (
        Client.objects.select_related("agency", "household").filter(public_id=public_id).first()
    )
    if client is None:
        raise Http404
    access = gate.open(viewer, client, context=gate.Context.LIVE_VIEW)
    if not (access.linked or access.any):
        raise Http404
    shown = set(access.shown)
    data = record_data(client, list(shown))
    return SharedRecord(
        client=client,
        access=access,
        sections=[
            SharedSection(section, access.decision(section.category))
            for section in record_sections(data, DataCategory.values, shown)
        ],
    )
