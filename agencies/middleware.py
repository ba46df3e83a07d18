from accounts.sessions import keep_after_ending

from .permissions import Viewer
from .selectors import membership_get_for_user

SESSION_KEY = "current_membership_id"
# The agency survives an idle timeout's logout, so logging in again comes back to the same page as
# the same agency; it is only ever read through membership_get_for_user, for whoever logs in.
keep_after_ending(SESSION_KEY)


class CurrentAgencyMiddleware:
    """Attach ``request.membership`` and ``request.viewer``: who acts, as which agency.

    The membership is re-read from the database on every request (one query), so a deactivated
    membership or agency stops working at once rather than when the session ends.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.membership = None
        if request.user.is_authenticated:
            request.membership = membership_get_for_user(
                user=request.user, membership_id=request.session.get(SESSION_KEY)
            )
        request.viewer = Viewer(user=request.user, membership=request.membership)
        return self.get_response(request)
