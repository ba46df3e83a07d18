"""Every table the generator writes, with the columns it gives, and the client tables' order."""

from django.db.models import Model

from accounts.models import User
from agencies.models import Agency, AgencyFunctionEntry, Membership, SupporterProfile
from audit.models import AccessEntry
from cases.models import (
    Case,
    CaseTopic,
    Client,
    Consultation,
    HomeVisit,
    Household,
    HouseholdMember,
    Plan,
    PlanGoal,
    PlanItem,
    StageMove,
    SupporterAssignment,
)
from consent.models import Consent
from referrals.models import ConfirmationRecord, ProvisionRecord, Referral
from reminders.models import Reminder

from .loader import Table

# The client tables in foreign-key order (staff: written by the database from consultations).
CLIENT_TABLES = [
    "household", "client", "member", "case", "topic", "move", "consultation", "staff", "plan",
    "goal", "item", "assignment", "visit", "consent", "referral", "provision", "confirmation",
    "access", "reminder",
]  # fmt: skip


def through(model: type[Model], name: str) -> type[Model]:
    return model._meta.get_field(name).remote_field.through


def tables() -> dict[str, Table]:
    return {
        "agency": Table(Agency, [
            "id", "public_id", "name", "name_kana", "kind", "municipality", "operation",
            "contractor_name", "postal_code", "address", "phone", "email", "opening_hours",
            "public_note", "receives_referrals", "consent_validity_days",
            "referral_alert_business_days", "next_contact_overdue_days", "no_contact_days",
            "no_contact_supervisor_days", "first_contact_business_days",
            "plan_review_days_before", "consent_expiring_days_before",
            "visits_without_contact", "closed_year_end", "active_from", "search_key",
            "created_at", "updated_at",
        ]),
        "function": Table(AgencyFunctionEntry, ["id", "agency", "function"]),
        "area": Table(through(Agency, "service_area"), ["id", "agency", "municipality"]),
        "user": Table(User, [
            "id", "password", "is_superuser", "username", "email", "is_staff", "is_active",
            "date_joined", "full_name", "full_name_kana", "is_system_admin", "session_epoch",
        ]),
        "membership": Table(Membership, [
            "id", "public_id", "user", "agency", "role", "is_roster_admin", "is_active",
            "created_at",
        ]),
        "supporter": Table(SupporterProfile, ["id", "membership", "is_peer_supporter"]),
        "household": Table(Household, [
            "id", "public_id", "agency", "postal_code", "address", "note", "created_at",
        ]),
        "client": Table(Client, [
            "id", "public_id", "agency", "household", "full_name", "full_name_kana",
            "birth_date", "gender", "postal_code", "address", "phone", "phone_alt", "email",
            "contact_preferences", "contact_note", "wishes", "first_direct_contact_on",
            "name_key", "kana_key", "created_by", "created_at", "updated_at",
        ]),
        "member": Table(HouseholdMember, [
            "id", "household", "client", "name", "relationship", "birth_year",
            "lives_together", "in_withdrawal", "note",
        ]),
        "case": Table(Case, [
            "id", "public_id", "client", "agency", "opened_on", "origin", "support_type",
            "stage", "primary_worker", "withdrawal_duration", "withdrawal_triggers",
            "going_out", "closed_on", "outcomes", "closure_note", "last_contact_on",
            "next_contact_on", "created_at", "updated_at",
        ]),
        "topic": Table(CaseTopic, ["id", "case", "topic", "is_main"]),
        "move": Table(StageMove, [
            "id", "case", "from_stage", "to_stage", "moved_on", "moved_at", "moved_by",
            "reason",
        ]),
        "consultation": Table(Consultation, [
            "id", "public_id", "case", "occurred_on", "start_time", "duration_minutes",
            "method", "with_client", "family_member", "summary", "notes", "next_contact_on",
            "tags", "created_by", "created_at", "updated_at",
        ]),
        "staff": Table(through(Consultation, "staff"), ["id", "consultation", "user"]),
        "plan": Table(Plan, [
            "id", "public_id", "case", "version", "status", "client_words", "review_on",
            "agreed_on", "agreement_method", "revision_reason", "created_by", "created_at",
            "updated_at",
        ]),
        "goal": Table(PlanGoal, ["id", "plan", "position", "text"]),
        "item": Table(PlanItem, [
            "id", "plan", "goal", "position", "what", "agency", "program", "frequency",
            "responsible",
        ]),
        "assignment": Table(SupporterAssignment, [
            "id", "client", "supporter", "approach_note", "assigned_by", "assigned_on",
            "ended_on",
        ]),
        "visit": Table(HomeVisit, [
            "id", "public_id", "client", "supporter", "visited_on", "outcome", "heard",
            "is_urgent", "urgent_note", "acknowledged_by", "acknowledged_at", "created_at",
        ]),
        "consent": Table(Consent, [
            "id", "public_id", "client", "recipient", "purpose", "categories", "method",
            "scan", "given_by", "representative_name", "obtained_by", "obtained_on",
            "valid_until", "withdrawn_how", "created_at",
        ]),
        "referral": Table(Referral, [
            "id", "public_id", "type", "from_agency", "from_worker", "to_agency", "client",
            "reason", "client_wishes", "urgency", "categories", "message", "status",
            "sent_at", "answered_at", "answered_by", "decline_reason", "assignee",
            "receiving_client", "snapshot", "first_contact_on", "completed_at",
            "created_at", "updated_at",
        ]),
        "provision": Table(ProvisionRecord, [
            "id", "referral", "provided_at", "provider", "recipient", "client",
            "categories", "consents", "provided_by",
        ]),
        "confirmation": Table(ConfirmationRecord, [
            "id", "referral", "received_at", "recipient", "provider", "client",
            "categories", "how_obtained", "confirmed_by",
        ]),
        "access": Table(AccessEntry, [
            "id", "at", "user", "agency", "agency_name", "client", "outcome", "basis",
            "categories", "withheld", "page", "path",
        ]),
        "reminder": Table(Reminder, [
            "id", "public_id", "kind", "agency", "target_type", "target_id", "recipient",
            "due_on", "created_at", "send_after", "sent_at", "read_at", "error", "attempts",
        ]),
    }  # fmt: skip
