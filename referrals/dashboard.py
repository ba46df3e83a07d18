"""The caseload page's box of received referrals assigned to me (registered with cases in
``ReferralsConfig.ready``): accept them, then meet the person."""

from cases.extensions import CaseloadPanel

from .selectors import referrals_awaiting_me


def _awaiting(viewer, shown: int) -> dict:
    awaiting = referrals_awaiting_me(viewer=viewer, limit=shown + 1)
    return {
        "referrals_awaiting": awaiting[:shown],
        "more_referrals_awaiting": len(awaiting) > shown,
    }


AWAITING_ME = CaseloadPanel("referrals_awaiting", read=_awaiting)
