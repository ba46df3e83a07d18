from django.urls import path

from . import views

app_name = "audit"
urlpatterns = [
    path("", views.audit_list, name="list"),
    path("authentication/", views.authentication_log, name="authentication"),
    path(
        "authentication/unlock/",
        views.authentication_unlock,
        name="authentication_unlock",
    ),
]
