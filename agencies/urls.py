from django.urls import path

from .views import accounts, current, directory, imports, picker, roster, second_factor, system

app_name = "agencies"
urlpatterns = [
    path("choose/", current.choose_agency, name="choose"),
    # Directory: every staff member
    path("directory/", directory.directory_page, name="directory"),
    path("directory/<uuid:public_id>/", directory.detail_page, name="detail"),
    # The agency picker of the forms: what a purpose lets the viewer choose
    path("pick/<slug:purpose>/", picker.agency_pick_view, name="pick"),
    # Roster: the agency's own roster admins (and system admins)
    path("roster/", roster.roster_home, name="roster_home"),
    path("manage/<uuid:public_id>/", roster.agency_manage, name="manage"),
    path("manage/<uuid:public_id>/profile/", roster.agency_profile_edit, name="profile_edit"),
    path("manage/<uuid:public_id>/staff/invite/", roster.staff_invite_view, name="staff_invite"),
    path(
        "manage/<uuid:public_id>/staff/<uuid:membership_id>/",
        roster.staff_edit,
        name="staff_edit",
    ),
    path(
        "manage/<uuid:public_id>/staff/<uuid:membership_id>/deactivate/",
        roster.staff_deactivate_view,
        name="staff_deactivate",
    ),
    path(
        "manage/<uuid:public_id>/staff/<uuid:membership_id>/reactivate/",
        roster.staff_reactivate_view,
        name="staff_reactivate",
    ),
    path("my-profile/", roster.my_supporter_profile, name="my_supporter_profile"),
    # System administration
    path("system/agencies/", system.agency_list, name="system_agencies"),
    path("system/agencies/new/", system.agency_create, name="system_agency_create"),
    path("system/municipalities/", system.municipality_list, name="system_municipalities"),
    path(
        "system/municipalities/<str:code>/",
        system.municipality_edit,
        name="system_municipality_edit",
    ),
    path("system/networks/", system.network_list, name="system_networks"),
    path("system/networks/new/", system.network_create, name="system_network_create"),
    path("system/networks/<uuid:public_id>/", system.network_edit, name="system_network_edit"),
    path("system/import/", imports.import_upload, name="system_import"),
    path(
        "system/export/municipalities.csv",
        imports.export_municipalities,
        name="system_export_municipalities",
    ),
    path("system/export/agencies.csv", imports.export_agencies, name="system_export_agencies"),
    # System administration: user accounts
    path("system/accounts/", accounts.user_list, name="system_users"),
    path("system/accounts/<int:user_id>/", accounts.user_detail, name="system_user"),
    path(
        "system/accounts/<int:user_id>/end-sessions/",
        accounts.user_end_sessions,
        name="system_user_end_sessions",
    ),
    path(
        "system/accounts/<int:user_id>/second-factor/reset/",
        second_factor.user_second_factor_reset,
        name="system_user_second_factor_reset",
    ),
]
