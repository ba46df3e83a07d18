from django.urls import path

from . import views

app_name = "consent"
urlpatterns = [
    # The client page's section, loaded when opened (cases.views.clients.client_section)
    path(
        "clients/<uuid:public_id>/section/consents/",
        views.client_consents_section,
        name="client_consents",
    ),
    path(
        "clients/<uuid:public_id>/section/emergencies/",
        views.client_emergencies_section,
        name="client_emergencies",
    ),
    path("client/<uuid:client_id>/new/", views.consent_new, name="new"),
    path("<uuid:public_id>/", views.consent_detail, name="detail"),
    path("<uuid:public_id>/withdraw/", views.consent_withdraw, name="withdraw"),
    path("<uuid:public_id>/scan/", views.consent_scan, name="scan"),
    path("client/<uuid:client_id>/emergency/", views.emergency_new, name="emergency_new"),
    path("emergency/", views.emergency_list, name="emergency_list"),
    path("emergency/<uuid:public_id>/", views.emergency_detail, name="emergency_detail"),
    path("emergency/<uuid:public_id>/review/", views.emergency_review, name="emergency_review"),
    path("emergency/<uuid:public_id>/end/", views.emergency_end, name="emergency_end"),
]
