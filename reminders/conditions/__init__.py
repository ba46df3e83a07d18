"""The reminder conditions: when each kind of reminder is due, and to whom. One module per
kind, named after it (``Kind`` in ``reminders.models``):

========================== ====================================================================
kind = module              when it is sent, and to whom
========================== ====================================================================
next_contact_due           the planned next contact day has come: the case's caseworker
next_contact_overdue       the planned contact is ``next_contact_overdue_days`` late: caseworker
no_contact_30              no consultation for ``no_contact_days`` (30): the case's caseworker
no_contact_60_supervisor   no consultation for ``no_contact_supervisor_days`` (60): supervisors
referral_unanswered        a sent referral unanswered after ``referral_alert_business_days``:
                           the receiving agency's supervisors
first_contact_unconfirmed  an accepted referral's 初回面談 unrecorded after
                           ``first_contact_business_days``: both sides' workers
plan_review_due            ``plan_review_days_before`` a plan's review date: the caseworker
consent_expiring           ``consent_expiring_days_before`` a consent ends: the caseworker
emergency_review           every day while an emergency disclosure is unreviewed: supervisors
meeting_tomorrow           the day before a 支援調整会議: each participant
visits_without_contact     ``visits_without_contact`` supporter visits in a row reached nobody:
                           the case's caseworker
========================== ====================================================================

The settings are the agency's (``THRESHOLD_FIELDS``); each module's docstring says the rest. A
reminder's title is its kind's label (``Kind``); the notification centre adds what it is about
(``selectors.reminder_rows``) and the email lists the titles with counts
(``delivery.reminder_email``).

Each module's ``condition(today, batch_size, targets)`` yields batches of keys (``Key``) of the
reminders whose condition holds on ``today``, optionally only for the given targets (public
ids): the sweep creates from them. The re-checks (the sweep's and the sender's, ``_gone``) ask
the very same function with ``today=None``: "as of each row's own due date". A key's due date
is worked out from the data (the planned day, the day the silence reached its length, the
business day a referral became late…) and is the first day its condition holds, so the day's
window is dropped and the key must come out equal to the row's: a logged contact moves the
planned day, an answer takes the referral out, a moved meeting moves the day before it. What
only the passing of time ends (a planned contact that became overdue, a meeting that is now
today) does not cancel a reminder whose email waited for a digest or a day off. The reminders
that are due every day (an emergency disclosure to review) yield ``None`` for the due date: any
day's row holds while the condition does.
"""

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator

from ..models import Kind
from . import (
    consent_expiring,
    emergency_review,
    first_contact_unconfirmed,
    meeting_tomorrow,
    next_contact_due,
    next_contact_overdue,
    no_contact_30,
    no_contact_60_supervisor,
    plan_review_due,
    referral_unanswered,
    visits_without_contact,
)
from ._common import Day

# The agency settings the conditions read (defaults on ``agencies.models.Agency``), in the
# order of the agency's reminder settings form. ``referral_alert_business_days`` is shared with
# the supervisors' queue, which marks the same referrals overdue.
THRESHOLD_FIELDS = [
    "next_contact_overdue_days",
    "no_contact_days",
    "no_contact_supervisor_days",
    "referral_alert_business_days",
    "first_contact_business_days",
    "plan_review_days_before",
    "consent_expiring_days_before",
    "visits_without_contact",
    "closed_year_end",
]

CONDITIONS: dict[str, Callable[[Day, int, set[str] | None], Iterator[list]]] = {
    Kind.NEXT_CONTACT_DUE: next_contact_due.condition,
    Kind.NEXT_CONTACT_OVERDUE: next_contact_overdue.condition,
    Kind.NO_CONTACT_30: no_contact_30.condition,
    Kind.NO_CONTACT_60_SUPERVISOR: no_contact_60_supervisor.condition,
    Kind.REFERRAL_UNANSWERED: referral_unanswered.condition,
    Kind.FIRST_CONTACT_UNCONFIRMED: first_contact_unconfirmed.condition,
    Kind.PLAN_REVIEW_DUE: plan_review_due.condition,
    Kind.CONSENT_EXPIRING: consent_expiring.condition,
    Kind.EMERGENCY_REVIEW: emergency_review.condition,
    Kind.MEETING_TOMORROW: meeting_tomorrow.condition,
    Kind.VISITS_WITHOUT_CONTACT: visits_without_contact.condition,
}


def _gone(rows: Iterable[dict]) -> list[int]:
    """The ids among ``rows`` (pending reminders as dicts of id, kind, target_id, due_on and
    recipient_id) whose condition no longer holds as of each row's own due date. Per kind among
    them: the kind's condition, asked only about these targets (a few queries, whatever the
    number of rows)."""
    by_kind: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        by_kind[row["kind"]].append(row)
    gone = []
    for kind, kind_rows in by_kind.items():
        targets = {row["target_id"] for row in kind_rows}
        holding = {
            (key[2], key[3], key[4])
            for batch in CONDITIONS[kind](None, len(targets) + 1, targets)
            for key in batch
        }
        gone.extend(
            row["id"]
            for row in kind_rows
            if (row["target_id"], row["due_on"], row["recipient_id"]) not in holding
            # A reminder due every day holds on any day while its condition does.
            and (row["target_id"], None, row["recipient_id"]) not in holding
        )
    return gone
