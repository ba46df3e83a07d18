from axes.helpers import get_cool_off
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from . import services
from .selectors import audit_entry_list, authentication_event_page, locked_usernames


@require_GET
def audit_list(request: HttpRequest) -> HttpResponse:
    action = request.GET.get("action", "").strip()
    entries = audit_entry_list(viewer=request.user, action_prefix=action)
    # Newest first: key on the negated id through a descending keyset is not supported by the
    # ascending helper, so page on "id below the cursor" directly.
    before = request.GET.get("before", "")
    if before.isdigit():
        entries = entries.filter(id__lt=int(before))
    rows = list(entries[:51])
    next_before = rows[49].id if len(rows) > 50 else None
    return render(
        request,
        "audit/list.html",
        {"entries": rows[:50], "next_before": next_before, "action": action, "section": "audit"},
    )


@require_GET
def authentication_log(request: HttpRequest) -> HttpResponse:
    """Failed logins, lockouts and successful logins, newest first; the accounts locked now,
    each with a button to unlock it (asked first: ?unlock=<user name> shows the question)."""
    page = authentication_event_page(viewer=request.user, cursor=request.GET.get("after"))
    locked = locked_usernames(viewer=request.user)
    unlock = request.GET.get("unlock", "").strip()
    return render(
        request,
        "audit/authentication.html",
        {
            "page": page,
            "locked": locked,
            "unlock": unlock,
            "cooloff_minutes": int(get_cool_off().total_seconds() // 60),
            "section": "authentication",
        },
    )


@require_POST
def authentication_unlock(request: HttpRequest) -> HttpResponse:
    username = request.POST.get("username", "").strip()
    services.authentication_unlock(viewer=request.user, username=username)
    messages.success(request, _("The account %(username)s was unlocked.") % {"username": username})
    return redirect("audit:authentication")
