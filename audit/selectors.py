from django.db.models import QuerySet
from django.http import Http404

from accounts.permissions import is_system_admin

from .models import AuditEntry


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
