from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from .selectors import audit_entry_list


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
