"""Who may do what with a referral: plain predicates, used by services, selectors and views."""

from agencies.permissions import Viewer
from cases.permissions import can_work_with_clients

from .models import Referral, ReferralType, Status

# Joint support is worked on while the referral is accepted or in support, and stays readable
# once completed.
JOINT_CHANGEABLE_STATUSES = {Status.ACCEPTED, Status.IN_SUPPORT}
JOINT_VISIBLE_STATUSES = JOINT_CHANGEABLE_STATUSES | {Status.COMPLETED}


class Side:
    SENDER = "sender"
    RECEIVER = "receiver"


def side_of(viewer: Viewer, referral: Referral) -> str | None:
    """Which of the two agencies the viewer acts for, if either."""
    agency_id = viewer.membership.agency_id if viewer.membership else None
    if agency_id == referral.from_agency_id:
        return Side.SENDER
    if agency_id == referral.to_agency_id:
        return Side.RECEIVER
    return None


def can_see_joint_support(viewer: Viewer, referral: Referral) -> bool:
    """Caseworkers and supervisors of either agency, once the joint referral was accepted."""
    return bool(
        referral.type == ReferralType.JOINT_SUPPORT
        and referral.status in JOINT_VISIBLE_STATUSES
        and can_work_with_clients(viewer)
        and side_of(viewer, referral) is not None
    )


def can_change_joint_support(viewer: Viewer, referral: Referral) -> bool:
    return can_see_joint_support(viewer, referral) and referral.status in JOINT_CHANGEABLE_STATUSES


def can_answer(viewer: Viewer, referral: Referral) -> bool:
    """Accept, decline, confirm the first interview: staff of the receiving agency."""
    return can_work_with_clients(viewer) and side_of(viewer, referral) == Side.RECEIVER


def can_write_to_thread(viewer: Viewer, referral: Referral) -> bool:
    return can_work_with_clients(viewer) and side_of(viewer, referral) is not None
