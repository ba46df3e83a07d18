from django.urls import path

from . import views

app_name = "councils"
urlpatterns = [
    # The client page's section, loaded when opened (cases.views.clients.client_section)
    path(
        "clients/<uuid:public_id>/section/councils/",
        views.client_councils_section,
        name="client_councils",
    ),
    path("", views.council_list_view, name="list"),
    path("new/", views.council_create, name="create"),
    path("<uuid:public_id>/", views.council_detail, name="detail"),
    path("<uuid:public_id>/edit/", views.council_edit, name="edit"),
    path("<uuid:public_id>/end/", views.council_end, name="end"),
    path("<uuid:public_id>/members/add/", views.member_add, name="member_add"),
    path(
        "<uuid:public_id>/members/<int:member_id>/leave/",
        views.member_leave,
        name="member_leave",
    ),
    path("<uuid:public_id>/sessions/new/", views.session_create, name="session_create"),
    path("sessions/<uuid:public_id>/", views.session_detail, name="session"),
    path("sessions/<uuid:public_id>/edit/", views.session_edit, name="session_edit"),
    path("sessions/<uuid:public_id>/minutes/", views.session_minutes, name="minutes"),
    path("sessions/<uuid:public_id>/agenda/", views.agenda_add, name="agenda_add"),
    path("agenda/<uuid:public_id>/withdraw/", views.agenda_withdraw, name="agenda_withdraw"),
]
