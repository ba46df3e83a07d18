from django.db.models import QuerySet
from django.http import Http404

from agencies.permissions import is_supervisor_of, is_system_admin

from .models import AccessEntry, AuditEntry


def audit_entry_list(
    *, viewer, action_prefix: str = "", target_type: str = ""
) -> QuerySet[AuditEntry]:
    """The audit trail, newest first; system admins only."""
    if not is_system_admin(viewer):
        raise Http404
    entries = AuditEntry.objects.select_related("actor", "acting_agency").order_by("-id")
    if action_prefix:
        entries = entries.filter(action__startswith=action_prefix)
    if target_type:
        entries = entries.filter(target_type=target_type)
    return entries


def client_access_log(*, viewer, client, limit: int = 30) -> list[AccessEntry] | None:
    """ "Who looked at this client": the latest looks from outside the holding agency and the
    refused attempts, for the holding agency's supervisors only (None for anyone else)."""
    if not is_supervisor_of(viewer, client.agency_id):
        return None
    return list(
        AccessEntry.objects.filter(client=client)
        .select_related("user", "agency")
        .order_by("-at", "-id")[:limit]
    )
