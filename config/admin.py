from functools import wraps

from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse


class TsunaguAdminSite(admin.AdminSite):
    """The Django admin, for system admins only.

    There is a single login page (the app's own). Anybody else who is logged in gets a 404, so
    the admin does not even confirm that it exists.
    """

    site_header = "Tsunagu"
    site_title = "Tsunagu"

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        # A system admin whose session has not passed the second factor is refused too
        # (agencies.middleware.SecondFactorMiddleware sends them to the code page first).
        return (
            user.is_active
            and getattr(user, "is_system_admin", False)
            and getattr(user, "is_verified", lambda: False)()
        )

    def admin_view(self, view, cacheable=False):
        inner = super().admin_view(view, cacheable)

        @wraps(view)
        def guarded(request, *args, **kwargs):
            if request.user.is_authenticated and not self.has_permission(request):
                raise Http404
            return inner(request, *args, **kwargs)

        return guarded

    def login(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        if request.user.is_authenticated:
            raise Http404
        return redirect_to_login(request.GET.get("next", request.get_full_path()))
