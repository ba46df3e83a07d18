"""The records the law asks for: 29条 provision records (第三者提供記録) and 30条 confirmation
records (確認記録), by agency, by client and for the CSV export.
"""

from collections.abc import Iterator
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from agencies.permissions import Viewer
from cases.models import Client
from cases.permissions import can_work_with_clients
from core.japanese import search_key
from core.pagination import DEFAULT_PAGE_SIZE, KeysetPage, keyset_page

from ..models import ConfirmationRecord, ProvisionRecord


def _name_filter(text: str) -> Q:
    key = search_key(text)
    if not key:
        return Q()
    return Q(client__name_key__contains=key) | Q(client__kana_key__contains=key)


# A provision record is the provider's own record (29条), written by referral_send about the
# provider's own client; a confirmation record is the recipient's (30条), about the client record
# it made at acceptance. The agency that keeps the record is the whole rule: a further join to
# the client's agency changes no row, and PostgreSQL, unable to know that, then sorts every
# record of the agency instead of reading the first page from provision_by_agency.


def _provisions(*, viewer: Viewer) -> QuerySet[ProvisionRecord]:
    if not can_work_with_clients(viewer):
        return ProvisionRecord.objects.none()
    return ProvisionRecord.objects.filter(provider_id=viewer.membership.agency_id).select_related(
        "client", "recipient", "provided_by", "referral"
    )


def _confirmations(*, viewer: Viewer) -> QuerySet[ConfirmationRecord]:
    if not can_work_with_clients(viewer):
        return ConfirmationRecord.objects.none()
    return ConfirmationRecord.objects.filter(
        recipient_id=viewer.membership.agency_id
    ).select_related("client", "provider", "confirmed_by", "referral")


PROVISION_ORDER = ["-provided_at", "-id"]
CONFIRMATION_ORDER = ["-received_at", "-id"]


def provision_records_for_agency(
    *, viewer: Viewer, name: str = "", cursor: str | None = None, size: int = DEFAULT_PAGE_SIZE
) -> KeysetPage:
    """This agency's provision records (第三者提供記録), newest first, by client name."""
    records = _provisions(viewer=viewer).filter(_name_filter(name))
    return keyset_page(records, ordering=PROVISION_ORDER, cursor=cursor, size=size)


def confirmation_records_for_agency(
    *, viewer: Viewer, name: str = "", cursor: str | None = None, size: int = DEFAULT_PAGE_SIZE
) -> KeysetPage:
    """This agency's confirmation records (確認記録), newest first, by client name."""
    records = _confirmations(viewer=viewer).filter(_name_filter(name))
    return keyset_page(records, ordering=CONFIRMATION_ORDER, cursor=cursor, size=size)


@dataclass(frozen=True)
class ClientRecords:
    provisions: list[ProvisionRecord]
    confirmations: list[ConfirmationRecord]


def records_for_client(*, viewer: Viewer, client: Client) -> ClientRecords:
    """Every provision and confirmation record about one client: what this agency passed on
    and where what it received came from (to answer the person's disclosure request)."""
    return ClientRecords(
        provisions=list(
            _provisions(viewer=viewer).filter(client=client).order_by(*PROVISION_ORDER)
        ),
        confirmations=list(
            _confirmations(viewer=viewer).filter(client=client).order_by(*CONFIRMATION_ORDER)
        ),
    )


def records_for_export(
    *, viewer: Viewer, name: str = ""
) -> Iterator[ProvisionRecord | ConfirmationRecord]:
    """All of this agency's records for the CSV export: provisions, then confirmations, each
    newest first, read in chunks."""
    yield from (
        _provisions(viewer=viewer)
        .filter(_name_filter(name))
        .order_by(*PROVISION_ORDER)
        .iterator(chunk_size=500)
    )
    yield from (
        _confirmations(viewer=viewer)
        .filter(_name_filter(name))
        .order_by(*CONFIRMATION_ORDER)
        .iterator(chunk_size=500)
    )
