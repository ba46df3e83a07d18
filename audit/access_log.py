"""Writing the access log: every look at a client's record from outside the holding agency, and
every refused attempt at one, before the page is shown.

What may be seen is the consent gate's decision (``consent.gate.open``); this module only
writes it down, and fails closed: when the entry cannot be written, the caller gets
``AccessLogUnavailableError`` and the page is refused (``audit.middleware`` answers 503).
"""

from django.db import DatabaseError, transaction
from django.utils import timezone

from accounts.permissions import is_system_admin
from core.records import DataCategory

from .context import current_page
from .models import AccessEntry, AccessOutcome


class AccessLogUnavailableError(Exception):
    """The access log could not be written, so the page must not be shown."""


def needs_access_log(viewer, client) -> bool:
    """Looks by the holding agency's own staff are their daily work; everything else is logged."""
    if is_system_admin(viewer.user):
        return True
    membership = viewer.membership
    return membership is None or membership.agency_id != client.agency_id


def write_access_entry(
    *,
    viewer,
    client,
    shown_page: bool,
    categories: list[str],
    bases: list[str],
    page: str = "",
    path: str = "",
) -> None:
    """One entry: the page was shown (``shown_page``, even if only with placeholders) or
    refused, with the categories shown and the bases they were shown on.

    The page defaults to the one the request is on (set by ``audit.middleware``)."""
    if not page and not path:
        page, path = current_page().name, current_page().path
    try:
        with transaction.atomic():
            AccessEntry.objects.create(
                at=timezone.now(),
                user=viewer.user,
                agency_id=viewer.membership.agency_id if viewer.membership else None,
                agency_name=viewer.membership.agency.name if viewer.membership else "",
                client=client,
                outcome=AccessOutcome.SHOWN if shown_page else AccessOutcome.DENIED,
                basis=",".join(bases),
                categories=list(categories),
                withheld=[c for c in DataCategory.values if c not in categories],
                page=page[:100],
                path=path[:300],
            )
    except DatabaseError as error:
        raise AccessLogUnavailableError from error


def log_refused_attempt(*, viewer, client) -> None:
    """A client record was asked for and refused (the caller answers 404, which does not
    confirm that the record exists)."""
    if viewer.user.is_authenticated:
        write_access_entry(viewer=viewer, client=client, shown_page=False, categories=[], bases=[])
