from django.urls import path

from .views import caseload, clients, consultations, households, meetings, plans, visits
from .views import cases as case_views

app_name = "cases"
urlpatterns = [
    path("", caseload.caseload_page, name="caseload"),
    # One case's row of the caseload, refreshed after a consultation is logged from it
    path("caseload/rows/<uuid:public_id>/", caseload.caseload_row, name="caseload_row"),
    # Clients
    path("clients/", clients.client_search, name="client_search"),
    path("clients/new/", clients.client_create, name="client_create"),
    # The client picker of the forms (支援会議 agenda, household member): options as one types
    path("clients/pick/", clients.client_pick, name="client_pick"),
    path("clients/<uuid:public_id>/", clients.client_detail, name="client"),
    path("clients/<uuid:public_id>/edit/", clients.client_edit, name="client_edit"),
    path(
        "clients/<uuid:public_id>/first-contact/",
        clients.client_first_contact,
        name="client_first_contact",
    ),
    path("clients/<uuid:public_id>/timeline/", clients.client_timeline, name="client_timeline"),
    # The client page's sections that load when opened (htmx fragments of the same template)
    path(
        "clients/<uuid:public_id>/sections/access-log/",
        clients.client_access_log_section,
        name="client_access_log",
    ),
    path(
        "clients/<uuid:public_id>/sections/supporters/",
        clients.client_supporters_section,
        name="client_supporters",
    ),
    path(
        "clients/<uuid:public_id>/sections/cases/",
        clients.client_case_history_section,
        name="client_case_history",
    ),
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
    # Support plans
    path("cases/<uuid:public_id>/plan/new/", plans.plan_create, name="plan_create"),
    path("plans/<uuid:public_id>/", plans.plan_detail, name="plan"),
    path("plans/<uuid:public_id>/edit/", plans.plan_update, name="plan_update"),
    path("plans/<uuid:public_id>/goals/", plans.goal_add, name="plan_goal_add"),
    path("plans/<uuid:public_id>/goals/<int:goal_id>/", plans.goal_edit, name="plan_goal_edit"),
    path(
        "plans/<uuid:public_id>/goals/<int:goal_id>/remove/",
        plans.goal_remove,
        name="plan_goal_remove",
    ),
    path("plans/<uuid:public_id>/items/", plans.item_add, name="plan_item_add"),
    path("plans/<uuid:public_id>/items/order/", plans.items_reorder, name="plan_items_reorder"),
    path("plans/<uuid:public_id>/items/<int:item_id>/", plans.item_edit, name="plan_item_edit"),
    path(
        "plans/<uuid:public_id>/items/<int:item_id>/remove/",
        plans.item_remove,
        name="plan_item_remove",
    ),
    path("plans/<uuid:public_id>/agree/", plans.plan_agree, name="plan_agree"),
    path("plans/<uuid:public_id>/revise/", plans.plan_revise, name="plan_revise"),
    path("plans/<uuid:public_id>/review/", plans.plan_review, name="plan_review"),
    path("plans/<uuid:public_id>/print/", plans.plan_print, name="plan_print"),
    # 支援調整会議
    path("meetings/", meetings.meeting_list, name="meetings"),
    path("meetings/new/", meetings.meeting_create, name="meeting_create"),
    path("meetings/<uuid:public_id>/", meetings.meeting_detail, name="meeting"),
    path("meetings/<uuid:public_id>/edit/", meetings.meeting_edit, name="meeting_edit"),
    path("meetings/<uuid:public_id>/cases/", meetings.meeting_case, name="meeting_case"),
    path("meetings/<uuid:public_id>/print/", meetings.meeting_print, name="meeting_print"),
    # Supporters and home visits
    path("clients/<uuid:public_id>/supporters/", visits.supporter_assign, name="supporter_assign"),
    path(
        "assignments/<int:assignment_id>/end/", visits.supporter_unassign, name="supporter_unassign"
    ),
    path(
        "visits/<uuid:public_id>/acknowledge/",
        visits.visit_acknowledge,
        name="visit_acknowledge",
    ),
    path("my/households/", visits.my_households, name="my_households"),
    path("my/households/<uuid:public_id>/", visits.my_household, name="my_household"),
]
