from axes.backends import AxesStandaloneBackend


class LockoutBackend(AxesStandaloneBackend):
    """django-axes' lockout check, for the logins that come over HTTP.

    Every login form passes its request, and the lockout is counted per user name and per
    address from it. ``authenticate()`` without a request (the test client's ``login()``, a
    shell) has no address to count and no one hammering a form: axes would raise there, so the
    check is skipped and the next backend decides.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def lockout_username(request, credentials) -> str:
    """The user name django-axes records (AXES_USERNAME_CALLABLE): as typed, cut to the longest
    a user name can be, so a 10,000-character one is a failed login, not a database error."""
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    return str(username)[:150]
