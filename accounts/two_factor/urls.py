from django.urls import path

from . import views

app_name = "two_factor"
urlpatterns = [
    path("", views.manage, name="manage"),
    path("code/", views.verify, name="verify"),
    path("set-up/", views.enrol, name="enrol"),
    path("backup-codes/", views.backup_codes, name="backup_codes"),
    path("backup-codes/new/", views.backup_codes_new, name="backup_codes_new"),
    path("turn-off/", views.remove, name="remove"),
    path("password/", views.reauthenticate, name="reauthenticate"),
]
