from django.urls import path

from .views import caseload, clients, consultations, households
from .views import cases as case_views

app_name = "cases"
urlpatterns = [
    path("", caseload.caseload_page, name="caseload"),
    # Clients
    path("clients/", clients.client_search, name="client_search"),
    path("clients/new/", clients.client_create, name="client_create"),
    path("clients/<uuid:public_id>/", clients.client_detail, name="client"),
    path("clients/<uuid:public_id>/edit/", clients.client_edit, name="client_edit"),
    path(
        "clients/<uuid:public_id>/first-contact/",
        clients.client_first_contact,
        name="client_first_contact",
    ),
    path("clients/<uuid:public_id>/timeline/", clients.client_timeline, name="client_timeline"),
    # Households
    path("clients/<uuid:public_id>/household/", households.household_edit, name="household_edit"),
    path(
        "clients/<uuid:public_id>/household/members/new/",
        households.member_add,
        name="member_add",
    ),
    path(
        "clients/<uuid:public_id>/household/members/<int:member_id>/",
        households.member_edit,
        name="member_edit",
    ),
    path(
        "clients/<uuid:public_id>/household/members/<int:member_id>/remove/",
        households.member_remove,
        name="member_remove",
    ),
    # Cases
    path("clients/<uuid:public_id>/cases/new/", case_views.case_open, name="case_open"),
    path("cases/<uuid:public_id>/edit/", case_views.case_edit, name="case_edit"),
    path("cases/<uuid:public_id>/stage/", case_views.case_stage, name="case_stage"),
    path("cases/<uuid:public_id>/close/", case_views.case_close, name="case_close"),
    path("cases/<uuid:public_id>/reopen/", case_views.case_reopen, name="case_reopen"),
    # Consultation records
    path(
        "cases/<uuid:public_id>/consultations/new/",
        consultations.consultation_new,
        name="consultation_new",
    ),
    path(
        "consultations/<uuid:public_id>/",
        consultations.consultation_detail,
        name="consultation",
    ),
    path(
        "consultations/<uuid:public_id>/edit/",
        consultations.consultation_edit,
        name="consultation_edit",
    ),
]
