"""System administration: the user accounts of the installation (search, one account, ending its
sessions).

Here and not in accounts because an account's page shows its memberships (this app) and its
actions are audited (audit): accounts sits below both. The templates are under
accounts/templates/accounts/system/.

The search is POSTed, also when htmx sends it as one types: a person's name stays out of the
address bar, the browser history and the server's access log.
"""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from accounts.two_factor.services import backup_codes_left, confirmed_totp_device
from audit.selectors import account_lockout, authentication_event_page
from audit.services import user_sessions_end
from core.japanese import without_control_characters

from ..permissions import can_administer_installation
from ..selectors import user_account_get, user_search

# Longer than any name or user name: what is typed past it is not a name.
QUERY_MAX_LENGTH = 150


@require_http_methods(["GET", "POST"])
def user_list(request: HttpRequest) -> HttpResponse:
    """The search (first page, or the next one with ``after``); htmx gets the results alone
    (the next page: its rows alone, for the "more" row to be replaced by)."""
    if not can_administer_installation(request.viewer):
        raise Http404
    # Shown back as typed; searched for up to the length a name can have.
    text = without_control_characters(request.POST.get("q", ""))
    cursor = request.POST.get("after") or None
    page = user_search(viewer=request.viewer, text=text.strip()[:QUERY_MAX_LENGTH], cursor=cursor)
    template = "accounts/system/users.html"
    if request.htmx:
        template += "#rows" if cursor else "#results"
    return render(request, template, {"page": page, "q": text, "section": "accounts"})


@require_GET
def user_detail(request: HttpRequest, user_id: int) -> HttpResponse:
    account = user_account_get(viewer=request.viewer, user_id=user_id)
    return render(request, "accounts/system/user.html", _account_context(request, account))


@require_http_methods(["GET", "POST"])
def user_end_sessions(request: HttpRequest, user_id: int) -> HttpResponse:
    """GET asks (saying what will happen), POST ends every session of the account."""
    account = user_account_get(viewer=request.viewer, user_id=user_id)
    if request.method == "POST":
        user_sessions_end(actor=request.user, user=account)
        messages.success(
            request,
            _("Every session of %(name)s was ended. They must log in again on every device.")
            % {"name": account},
        )
        return redirect("agencies:system_user", user_id=account.pk)
    return render(
        request,
        "accounts/system/user_end_sessions.html",
        {**_account_context(request, account), "is_self": account.pk == request.user.pk},
    )


def _account_context(request: HttpRequest, account) -> dict:
    # Sections other features add to the account's page put their context here too.
    return {
        "account": account,
        "memberships": list(account.memberships.all()),
        "lockout": account_lockout(viewer=request.user, username=account.get_username()),
        "events": authentication_event_page(
            viewer=request.user, username=account.get_username()
        ).items,
        "second_factor": {
            "device": confirmed_totp_device(account),
            "backup_codes_left": backup_codes_left(account),
        },
        "section": "accounts",
    }
