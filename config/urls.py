from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.i18n import set_language

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("health/", views.health, name="health"),
    path("accounts/two-factor/", include("accounts.two_factor.urls")),
    path("accounts/", include("accounts.urls")),
    path("agencies/", include("agencies.urls")),
    path("audit/", include("audit.urls")),
    path("cases/", include("cases.urls")),
    path("consent/", include("consent.urls")),
    path("councils/", include("councils.urls")),
    path("referrals/", include("referrals.urls")),
    path("reminders/", include("reminders.urls")),
    # The language switch works on the login page too.
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("admin/", admin.site.urls),
]
