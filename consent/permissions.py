"""Who may do what with consent records and emergency disclosures: plain predicates.

What a viewer may *see* of a client is the gate's (``consent.gate``), not these."""

from agencies.permissions import Viewer, is_supervisor_of
from cases.permissions import holds_client

from .models import EmergencyDisclosure


def made_disclosure(viewer: Viewer, disclosure: EmergencyDisclosure) -> bool:
    return disclosure.disclosed_by_id == viewer.user.pk


def can_review_emergency(viewer: Viewer, disclosure: EmergencyDisclosure) -> bool:
    """One of the holding agency's supervisors (主任相談支援員) reviews an emergency disclosure,
    and not the one who made it: a review of one's own decision is no review."""
    return is_supervisor_of(viewer, disclosure.client.agency_id) and not made_disclosure(
        viewer, disclosure
    )


def must_leave_review_to_another(viewer: Viewer, disclosure: EmergencyDisclosure) -> bool:
    """A supervisor of the holding agency who made the disclosure: told that another supervisor
    reviews it, rather than refused without a word."""
    return is_supervisor_of(viewer, disclosure.client.agency_id) and made_disclosure(
        viewer, disclosure
    )


def can_see_emergency(viewer: Viewer, disclosure: EmergencyDisclosure) -> bool:
    """The holding agency's staff see the whole disclosure, reason included; the recipient sees
    the record through the gate, not this page."""
    return holds_client(viewer, disclosure.client)
