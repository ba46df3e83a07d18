"""Clients, households, cases and the consultation log.

Whose record is it: every agency is a separate holder of personal information, so a client
belongs to exactly one agency. Another agency supporting the same person keeps its own record,
linked through an accepted referral (the referrals app).

One module per subject: ``clients`` (clients, households and their members), ``cases`` (cases,
their topics and stages), ``consultations`` (the consultation log), ``plans`` (support plans and
their reviews), ``meetings`` (支援調整会議) and ``visits`` (supporters and home visits). Import
from ``cases.models``.
"""

from .cases import (
    STAGE_ORDER,
    Case,
    CaseOrigin,
    CaseTopic,
    GoingOut,
    Outcome,
    Stage,
    StageMove,
    SupportType,
    Topic,
    WithdrawalDuration,
    WithdrawalTrigger,
)
from .clients import (
    PARENTS,
    Client,
    ContactPreference,
    Gender,
    Household,
    HouseholdMember,
    Relationship,
    age_on,
)
from .consultations import Consultation, ConsultationRevision, Method
from .meetings import Decision, Meeting, MeetingCase
from .plans import (
    Achievement,
    AgreementMethod,
    GoalReview,
    Plan,
    PlanGoal,
    PlanItem,
    PlanReview,
    PlanStatus,
    Program,
)
from .visits import HomeVisit, SupporterAssignment, VisitOutcome

__all__ = [
    "PARENTS",
    "STAGE_ORDER",
    "Achievement",
    "AgreementMethod",
    "Case",
    "CaseOrigin",
    "CaseTopic",
    "Client",
    "Consultation",
    "ConsultationRevision",
    "ContactPreference",
    "Decision",
    "Gender",
    "GoalReview",
    "GoingOut",
    "HomeVisit",
    "Household",
    "HouseholdMember",
    "Meeting",
    "MeetingCase",
    "Method",
    "Outcome",
    "Plan",
    "PlanGoal",
    "PlanItem",
    "PlanReview",
    "PlanStatus",
    "Program",
    "Relationship",
    "Stage",
    "StageMove",
    "SupportType",
    "SupporterAssignment",
    "Topic",
    "VisitOutcome",
    "WithdrawalDuration",
    "WithdrawalTrigger",
    "age_on",
]
