from django.urls import path

from .views import joint, queues, shared
from .views import referrals as views

app_name = "referrals"
urlpatterns = [
    # The client page's section, loaded when opened (cases.views.clients.client_section)
    path(
        "clients/<uuid:public_id>/section/referrals/",
        shared.client_referrals_section,
        name="client_referrals",
    ),
    # Sending side, from the client page
    path("new/<uuid:client_id>/", views.referral_new, name="new"),
    path("<uuid:public_id>/", views.referral_detail, name="detail"),
    path("<uuid:public_id>/edit/", views.referral_edit, name="edit"),
    path("<uuid:public_id>/send/", views.referral_send, name="send"),
    path("<uuid:public_id>/withdraw/", views.referral_withdraw, name="withdraw"),
    path("<uuid:public_id>/print/", views.referral_print, name="print"),
    path("<uuid:public_id>/messages/", views.message_post, name="message_post"),
    # Receiving side
    path("<uuid:public_id>/accept/", views.referral_accept, name="accept"),
    path("<uuid:public_id>/decline/", views.referral_decline, name="decline"),
    path("<uuid:public_id>/first-contact/", views.first_contact, name="first_contact"),
    # The records the law asks for
    path("records/", views.agency_records, name="records"),
    path("records/export.csv", views.agency_records_csv, name="records_csv"),
    path("records/client/<uuid:client_id>/", views.client_records, name="client_records"),
    # Supervisors' queues
    path("incoming/", queues.incoming, name="incoming"),
    path("outgoing/", queues.outgoing, name="outgoing"),
    path("incoming/assign/", queues.assign, name="assign"),
    # A partner's live record of a person, as the consent gate lets it through
    path("partner-record/<uuid:public_id>/", shared.shared_record, name="shared_record"),
    # Joint support
    path("<uuid:public_id>/joint/", joint.joint_support, name="joint"),
    path("<uuid:public_id>/joint/roles/", joint.role_save, name="joint_role"),
    path("<uuid:public_id>/joint/policy/", joint.policy_save, name="joint_policy"),
]
