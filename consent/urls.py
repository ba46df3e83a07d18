from django.urls import path

from . import views

app_name = "consent"
urlpatterns = [
    path("client/<uuid:client_id>/new/", views.consent_new, name="new"),
    path("<uuid:public_id>/", views.consent_detail, name="detail"),
    path("<uuid:public_id>/withdraw/", views.consent_withdraw, name="withdraw"),
    path("<uuid:public_id>/scan/", views.consent_scan, name="scan"),
]
