"""The caseload page's box of the newest unread reminders (registered with cases in
``RemindersConfig.ready``), so nothing waits behind the notification badge."""

from cases.extensions import CaseloadPanel

from .selectors import unread_reminders

# Fewer than the other boxes: the notification centre holds the rest.
REMINDERS_SHOWN = 5


def _unread(viewer, shown: int) -> dict:
    reminders = unread_reminders(viewer=viewer, limit=REMINDERS_SHOWN + 1)
    return {
        "reminders": reminders[:REMINDERS_SHOWN],
        "more_reminders": len(reminders) > REMINDERS_SHOWN,
    }


UNREAD = CaseloadPanel("reminders", read=_unread)
