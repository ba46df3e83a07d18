from django.contrib.auth import views as auth_views
from django.urls import path

from . import views
from .reauth import recent_password_required
from .two_factor import views as two_factor_views

urlpatterns = [
    # The password, then the one-time code for a user with an authenticator (two_factor).
    path("login/", two_factor_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # The idle-timeout warning: the session's time left (not activity), and "stay logged in".
    path("session/", views.session_status, name="session_status"),
    path("session/keep-alive/", views.session_keep_alive, name="session_keep_alive"),
    # The password is asked again first when it was last typed a while ago (accounts.reauth).
    path(
        "password/",
        recent_password_required(auth_views.PasswordChangeView.as_view()),
        name="password_change",
    ),
    path(
        "password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"
    ),
]

# Invited staff set their first password through Django's reset-confirm view.
urlpatterns += [
    path(
        "reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
]
