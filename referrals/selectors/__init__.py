"""Reads of referrals (つなぎ) and of the records the law asks for (29条 provision records,
30条 confirmation records).

``referral_scope`` is the one rule of who sees which referral: the caseworkers and supervisors
of the sending agency (every referral they made, drafts included) and of the receiving agency
(once it was sent to them, and never an introduction: 紹介のみ sends nothing about the person).
Anyone else gets a 404. What of the person the receiving side sees is decided by the consent
gate (``referral_snapshot``), not by the template.

One module per subject: ``scope`` (who sees which referral, one referral, the lists of them),
``recipients``, ``referral_copy`` (what crossed, through the gate), ``records`` (29条 / 30条),
``queues`` (the supervisors' queues, with how age and "overdue" are counted) and ``joint`` (the
joint support page). Import from ``referrals.selectors``.
"""

from .joint import (
    JOINT_CATEGORY,
    JointRoles,
    JointSupport,
    joint_contact_choices,
    joint_support_get,
)
from .queues import (
    ASSIGNABLE_STATUSES,
    COUNT_CAP,
    INCOMING,
    OUTGOING,
    PAGE_SIZE,
    QUEUE_ORDERING,
    QUEUE_STATUSES,
    UNASSIGNED,
    Queue,
    QueueQuery,
    QueueRow,
    StatusCount,
    may_view_queue,
    queue_workers,
    referral_queue,
    referrals_for_assign,
    sent_before_for_age,
)
from .recipients import receiving_staff, referral_recipients, referral_recipients_to_pick
from .records import (
    CONFIRMATION_ORDER,
    PROVISION_ORDER,
    ClientRecords,
    confirmation_records_for_agency,
    provision_records_for_agency,
    records_for_client,
    records_for_export,
)
from .referral_copy import ReferralCopy, posted_after_acceptance, referral_copy
from .scope import (
    referral_get,
    referral_list_for_client,
    referral_scope,
    referrals_awaiting_me,
    referrals_linking,
)

__all__ = [
    "ASSIGNABLE_STATUSES",
    "CONFIRMATION_ORDER",
    "COUNT_CAP",
    "INCOMING",
    "JOINT_CATEGORY",
    "OUTGOING",
    "PAGE_SIZE",
    "PROVISION_ORDER",
    "QUEUE_ORDERING",
    "QUEUE_STATUSES",
    "UNASSIGNED",
    "ClientRecords",
    "JointRoles",
    "JointSupport",
    "Queue",
    "QueueQuery",
    "QueueRow",
    "ReferralCopy",
    "StatusCount",
    "confirmation_records_for_agency",
    "joint_contact_choices",
    "joint_support_get",
    "may_view_queue",
    "posted_after_acceptance",
    "provision_records_for_agency",
    "queue_workers",
    "receiving_staff",
    "records_for_client",
    "records_for_export",
    "referral_copy",
    "referral_get",
    "referral_list_for_client",
    "referral_queue",
    "referral_recipients",
    "referral_recipients_to_pick",
    "referral_scope",
    "referrals_awaiting_me",
    "referrals_for_assign",
    "referrals_linking",
    "sent_before_for_age",
]
