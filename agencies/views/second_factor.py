"""System administration: resetting the second factor of a user who lost their phone.

Beside the user accounts pages (agencies.views.accounts), for the same reason: the reset is
audited (audit), which accounts cannot reach. The template is under
accounts/templates/accounts/system/.
"""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.two_factor.services import backup_codes_left, confirmed_totp_device
from audit.services import second_factor_reset

from ..selectors import user_account_get


@require_http_methods(["GET", "POST"])
def user_second_factor_reset(request: HttpRequest, user_id: int) -> HttpResponse:
    """GET says what will happen; POST removes the user's authenticator and backup codes and
    ends their sessions."""
    account = user_account_get(viewer=request.viewer, user_id=user_id)
    if request.method == "POST":
        second_factor_reset(actor=request.user, user=account)
        messages.success(
            request,
            _(
                "The second factor of %(name)s was reset. They set up an authenticator again "
                "at their next login."
            )
            % {"name": account},
        )
        return redirect("agencies:system_user", user_id=account.pk)
    return render(
        request,
        "accounts/system/user_second_factor_reset.html",
        {
            "account": account,
            "device": confirmed_totp_device(account),
            "backup_codes_left": backup_codes_left(account),
            "is_self": account.pk == request.user.pk,
            "section": "accounts",
        },
    )
