from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from ..middleware import SESSION_KEY
from ..permissions import is_system_admin
from ..selectors import membership_get_for_user, membership_list_for_user


@require_http_methods(["GET", "POST"])
def choose_agency(request: HttpRequest) -> HttpResponse:
    """Pick the agency to act as. With exactly one membership the choice is made for you."""
    memberships = list(membership_list_for_user(user=request.user))
    if request.method == "POST":
        try:
            membership_id = int(request.POST.get("membership", ""))
        except ValueError:
            raise Http404 from None
        membership = membership_get_for_user(user=request.user, membership_id=membership_id)
        if membership is None:
            raise Http404
        request.session[SESSION_KEY] = membership.id
        messages.success(
            request, _("You are now working as %(agency)s.") % {"agency": membership.agency.name}
        )
        return redirect("home")
    if len(memberships) == 1 and request.session.get(SESSION_KEY) is None:
        request.session[SESSION_KEY] = memberships[0].id
        return redirect("home")
    if not memberships and is_system_admin(request.user):
        return redirect("home")
    return render(request, "agencies/choose.html", {"memberships": memberships})
