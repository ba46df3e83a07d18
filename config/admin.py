from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse


class TsunaguAdminSite(admin.AdminSite):
    """The Django admin, for system admins only.

    There is a single login page (the app's own); anybody else who reaches the admin gets a 404,
    so the admin does not confirm it exists.
    """

    site_header = "Tsunagu"
    site_title = "Tsunagu"

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return user.is_active and getattr(user, "is_system_admin", False)

    def login(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        if request.user.is_authenticated:
            raise Http404
        return redirect_to_login(request.GET.get("next", request.get_full_path()))
