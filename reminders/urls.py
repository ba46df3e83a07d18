from django.urls import path

from . import views

app_name = "reminders"

urlpatterns = [
    path("", views.reminder_list, name="list"),
    path("<uuid:public_id>/read/", views.reminder_read, name="read"),
    path("badge/", views.reminder_badge, name="badge"),
    path("read-all/", views.reminder_read_all, name="read_all"),
    path("preferences/", views.delivery_preference, name="preferences"),
    path("agency/<uuid:public_id>/", views.agency_settings, name="agency_settings"),
]
