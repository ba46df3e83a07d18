"""Every named URL of the project, once: who may reach it, and how it is requested.

A row (``row(name, audience, args, ...)``) says:

- ``audience``: who may reach it, ``(persona, state) → bool`` (see ``personas``); anyone else
  signed in gets a 404 (or a 403 for ``forbidden``), no login the login page (unless ``open``);
- ``ok``: the status the audience gets (200 for a GET, 302 for a POST unless given; a number
  or ``persona → number``);
- ``args``: its URL arguments from the world; ``of(...)`` takes them from one consent state's
  client, which makes the row client-bound (the access matrix requests it in every state);
- ``method``: GET, or POST for a POST-only view. A POST sends ``data``, the form as its
  audience fills it in; ``unchanged`` reads the rows it writes, which must not move for anyone
  refused (nor may any other table: see ``http.writes``), and must move for ``writes``, the
  personas whose POST succeeds in the permission matrix's state;
- ``client_data``: whether the page may show a client's record: the access matrix requests it
  for every persona (and every state, if client-bound) and checks the gate and the access log;
  any other page must show no sentinel at all. Client-bound rows show client data;
- ``forbidden`` (a service's deliberate 403), ``unlogged`` (refused without an access-log entry:
  they may see the record and were refused an action on it), ``query`` and ``htmx``;
- ``variants``: other ways to request the same URL (a search, a filter, an htmx fragment, the
  other referral), each a dict of the fields that differ; they are ``name@variant`` in test ids.

The permission matrix requests every row that shows no client data, and every POST; the access
matrix every row that shows client data.
"""

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta

from django.apps import apps
from django.utils import timezone

from .personas import (
    Audience,
    client_work,
    council_member_staff,
    council_members,
    council_runner,
    councils_page,
    dispatched,
    everyone,
    h_roster,
    h_supervisor,
    holder,
    holder_or_sysadmin,
    live_view,
    nobody,
    not_supporters,
    receiver,
    roster_admins,
    sides,
    signed_in,
    supervisors,
    supporters,
    system_only,
    works_with_clients,
)

Build = Callable[[dict, str | None], object]
LOGIN = "login"
OK, REDIRECT, FORBIDDEN, NOT_FOUND = 200, 302, 403, 404
# The consent state whose client the permission matrix requests client-bound URLs with.
PERMISSION_STATE = "some"


@dataclass(frozen=True)
class Url:
    name: str
    audience: Audience
    args: Build | None = None
    method: str = "GET"
    data: Build | None = None
    unchanged: Build | None = None
    writes: Audience = nobody
    ok: int | Callable[[str], int] | None = None
    client_data: bool | None = None
    open: bool = False
    forbidden: Audience = nobody
    unlogged: Audience = nobody
    query: Build | None = None
    htmx: str | None = None
    label: str = ""

    @property
    def key(self) -> str:
        return f"{self.name}@{self.label}" if self.label else self.name

    @property
    def client_bound(self) -> bool:
        builders = (self.args, self.query, self.data)
        return any(getattr(build, "per_state", False) for build in builders)

    @property
    def shows_client_data(self) -> bool:
        return self.client_bound if self.client_data is None else self.client_data

    def expected(self, persona: str, state: str | None) -> int | str:
        """The status ``persona`` gets, or LOGIN for the login page."""
        if persona == "anonymous" and not self.open:
            return LOGIN
        if self.audience(persona, state):
            ok = self.ok if self.ok is not None else (REDIRECT if self.method == "POST" else OK)
            return ok(persona) if callable(ok) else ok
        if self.forbidden(persona, state):
            return FORBIDDEN
        return NOT_FOUND


def row(
    name: str, audience: Audience, args: Build | None = None, *, variants=None, **fields
) -> tuple[Url, ...]:
    """One URL: its main request, then its variants (dicts of the fields that differ)."""
    main = Url(name, audience, args, **fields)
    others = tuple(
        replace(main, **{"label": label, **changes}) for label, changes in (variants or {}).items()
    )
    return (main, *others)


# --- Argument, form and snapshot builders ---------------------------------------------------


def of(**keys: str) -> Build:
    """From one state's client's objects: of(public_id="client") → {"public_id": <uuid>}."""

    def build(world: dict, state: str | None) -> dict:
        return {name: world["states"][state][key] for name, key in keys.items()}

    build.per_state = True
    return build


def fixed(**keys: str) -> Build:
    """From the world's objects that belong to no client."""
    return lambda world, state: {name: world[key] for name, key in keys.items()}


def literal(**values) -> Build:
    return lambda world, state: values


def form(**values) -> Build:
    """A form's fields; a callable value is given (world, state) when the form is sent."""

    def build(world: dict, state: str | None) -> dict:
        return {k: v(world, state) if callable(v) else v for k, v in values.items()}

    return build


def client_form(**values) -> Build:
    """A form naming one state's client's objects (the row is client-bound)."""
    build = form(**values)
    build.per_state = True
    return build


def at(key: str) -> Build:
    """One of the state's client's objects."""
    return lambda world, state: world["states"][state][key]


def w(key: str) -> Build:
    return lambda world, state: world[key]


def today(world=None, state=None) -> str:
    return timezone.localdate().isoformat()


def days_ago(days: int) -> Build:
    return lambda world, state: (timezone.localdate() - timedelta(days=days)).isoformat()


def rows(model: str, fields: tuple[str, ...], **where: Build) -> Build:
    """The rows a POST would write: ``fields`` of ``model``'s rows matching ``where``."""

    def read(world: dict, state: str | None) -> list:
        objects = apps.get_model(model).objects
        filters = {lookup: value(world, state) for lookup, value in where.items()}
        return list(objects.filter(**filters).order_by("pk").values_list(*fields))

    return read


# --- Status rules ------------------------------------------------------------------------------


def start_page(persona: str) -> int:
    """Caseworkers, supervisors and supporters are sent on to their own start page."""
    return REDIRECT if works_with_clients(persona) or supporters(persona) else OK


def second_factor_owed(persona: str, state: str | None = None) -> bool:
    """Who must log in with a second factor: supervisors, roster admins, the system admin
    (agencies.permissions.must_use_second_factor). The world's sessions passed it."""
    return supervisors(persona) or roster_admins(persona)


def holder_sent_on(persona: str) -> int:
    """The holder is sent to its own page; the others see the page."""
    return REDIRECT if holder(persona) else OK


# --- The registry ------------------------------------------------------------------------------

CLIENT = of(public_id="client")
CASE = of(public_id="case")
PLAN_ID = of(public_id="plan")
MEETING = of(public_id="meeting")
H_AGENCY = fixed(public_id="H_id")
H_STAFF = fixed(public_id="H_id", membership_id="H_cw_membership")
PICK = {"q": "じりつ"}

PLAN_ROWS = rows("cases.Plan", ("id", "client_words", "review_on"), case__public_id=at("case"))
GOALS = rows("cases.PlanGoal", ("id", "text"), plan__public_id=at("plan"))
ITEMS = rows("cases.PlanItem", ("id", "position", "what"), plan__public_id=at("plan"))
REFERRAL_FIELDS = (
    "status",
    "answered_at",
    "decline_reason",
    "assignee",
    "first_contact_on",
    "completed_at",
)
REMINDERS = rows("reminders.Reminder", ("id", "read_at"))
SIDED = frozenset({"forbidden", "unlogged", "writes"})


def referral(name: str, audience: str, **fields) -> tuple[Url, ...]:
    """A referral page, for the accepted つなぎ to L (``@L``) and 共同支援 to J (``@J``).

    Audiences (``audience``, ``forbidden``, ``unlogged``, ``writes``) are named by side:
    "sides" (the caseworkers and supervisors of H and of the receiver), "receiver", "holder"
    (H's, the sender); ``unchanged`` is "state" (the referral's own fields) or "thread" (its
    messages)."""

    def of_referral(to: str) -> dict:
        by_side = {"sides": sides(to), "receiver": receiver(to), "holder": holder}
        key = f"referral_{to}"
        snapshots = {
            "state": rows("referrals.Referral", REFERRAL_FIELDS, public_id=at(key)),
            "thread": rows("referrals.ReferralMessage", ("id",), referral__public_id=at(key)),
        }
        chosen = {
            field: by_side[value] if field in SIDED else snapshots[value]
            for field, value in fields.items()
            if field in SIDED or field == "unchanged"
        }
        return {
            **fields,
            **chosen,
            "audience": by_side[audience],
            "args": of(public_id=key),
            "label": to,
        }

    main = of_referral("L")
    return row(
        name,
        main.pop("audience"),
        main.pop("args"),
        variants={"J": of_referral("J")},
        **main,
    )


def _agency_pick_variants() -> dict[str, dict]:
    """The agency picker's purposes: the page that uses it decides who may (a 404 for anyone
    else)."""
    return {
        purpose: {"args": literal(purpose=purpose), **changes}
        for purpose, changes in {
            "referral-recipient": {},
            # the quick entry and correction, a plan's support item, a 支援調整会議's
            # participants
            "consultation-partner": {},
            "plan-agency": {},
            "meeting-participant": {},
            # setting up a 支援会議; adding a member to 長野市's (H its secretariat)
            "council-chair": {"audience": system_only},
            "council-member": {
                "audience": council_runner,
                "query": lambda world, state: {**PICK, "council": world["council_id"]},
            },
            # a network's coordinator and members (the installation's administration)
            "network-agency": {"audience": system_only},
        }.items()
    }


REGISTRY: tuple[Url, ...] = (
    # --- Accounts, the start page, the open pages ------------------------------------------------
    *row("home", signed_in, ok=start_page),
    *row("health", everyone, open=True),
    *row("login", everyone, open=True, ok=lambda p: OK if p == "anonymous" else REDIRECT),
    *row("logout", everyone, method="POST", open=True),
    *row("set_language", everyone, method="POST", open=True, data=form(language="ja", next="/")),
    # the idle-timeout warning asks how long is left (401 once logged out) and keeps alive
    *row("session_status", everyone, open=True, ok=lambda p: 401 if p == "anonymous" else OK),
    *row("session_keep_alive", signed_in, method="POST", data=form(), ok=OK),
    *row("password_change", signed_in),
    *row("password_change_done", signed_in),
    # a one-time link that is not valid: the page says so (the real one is in test_roster)
    *row("password_reset_confirm", everyone, literal(uidb64="MQ", token="0-invalid"), open=True),
    *row("password_reset_complete", everyone, open=True),
    # --- Two-factor login (accounts.two_factor) ------------------------------------------------
    # the code page: for a signed-in session the code again; with no password typed, the login
    *row(
        "two_factor:verify", everyone, open=True, ok=lambda p: REDIRECT if p == "anonymous" else OK
    ),
    *row("two_factor:manage", signed_in),
    # the secret being set up is kept in the session: showing it writes no row
    *row("two_factor:enrol", signed_in),
    # the backup codes are shown once, right after they were made; else back to the settings
    *row("two_factor:backup_codes", signed_in, ok=REDIRECT),
    # new backup codes for those with an authenticator; the others are sent to set one up
    *row(
        "two_factor:backup_codes_new",
        signed_in,
        method="POST",
        data=form(),
        unchanged=rows("otp_static.StaticToken", ("id",)),
        writes=second_factor_owed,
    ),
    # those who must keep it are sent back; the others are asked before it is turned off
    *row("two_factor:remove", signed_in, ok=lambda p: REDIRECT if second_factor_owed(p) else OK),
    *row("two_factor:reauthenticate", signed_in),
    # --- Agencies ------------------------------------------------------------------------------
    *row("agencies:choose", signed_in, ok=lambda p: REDIRECT if p == "sysadmin" else OK),
    *row("agencies:directory", not_supporters),
    *row("agencies:detail", not_supporters, fixed(public_id="L_id")),
    # the agency picker of the forms, one variant per purpose
    *row(
        "agencies:pick",
        client_work,
        literal(purpose="consent-recipient"),
        query=literal(**PICK),
        variants=_agency_pick_variants(),
    ),
    *row("agencies:roster_home", roster_admins, ok=REDIRECT),
    *row("agencies:manage", h_roster, H_AGENCY),
    *row("agencies:profile_edit", h_roster, H_AGENCY),
    *row("agencies:staff_invite", h_roster, H_AGENCY),
    *row("agencies:staff_edit", h_roster, H_STAFF),
    *row(
        "agencies:staff_deactivate",
        h_roster,
        H_STAFF,
        method="POST",
        unchanged=rows(
            "agencies.Membership", ("is_active", "deactivated_at"), public_id=w("H_cw_membership")
        ),
        writes=h_roster,
    ),
    # a former member of H is brought back
    *row(
        "agencies:staff_reactivate",
        h_roster,
        fixed(public_id="H_id", membership_id="H_former_membership"),
        method="POST",
        unchanged=rows(
            "agencies.Membership",
            ("is_active", "deactivated_at"),
            public_id=w("H_former_membership"),
        ),
        writes=h_roster,
    ),
    *row("agencies:my_supporter_profile", supporters),
    *row("agencies:system_agencies", system_only),
    *row("agencies:system_agency_create", system_only),
    *row("agencies:system_municipalities", system_only),
    *row("agencies:system_municipality_edit", system_only, literal(code="202011")),
    *row("agencies:system_networks", system_only),
    *row("agencies:system_network_create", system_only),
    *row("agencies:system_network_edit", system_only, fixed(public_id="network_id")),
    *row("agencies:system_import", system_only),
    *row("agencies:system_export_municipalities", system_only),
    *row("agencies:system_export_agencies", system_only),
    # a lost phone: GET asks; POST removes the authenticator and backup codes, ends every
    # session and writes the audit and the authentication log
    *row(
        "agencies:system_user_second_factor_reset",
        system_only,
        fixed(user_id="H_former_user"),
        variants={
            "reset": {
                "method": "POST",
                "data": form(),
                "unchanged": rows("accounts.User", ("session_epoch",), pk=w("H_former_user")),
                "writes": system_only,
            }
        },
    ),
    # user accounts: the search is POSTed (a name stays out of the address), one account's page
    *row(
        "agencies:system_users",
        system_only,
        variants={
            "search": {"method": "POST", "data": form(q="gate"), "ok": OK},
            "htmx": {"method": "POST", "data": form(q="gate"), "ok": OK, "htmx": "user-results"},
        },
    ),
    *row("agencies:system_user", system_only, fixed(user_id="H_former_user")),
    # GET asks; POST ends every session of the (former) member: epoch bumped, audited
    *row(
        "agencies:system_user_end_sessions",
        system_only,
        fixed(user_id="H_former_user"),
        variants={
            "end": {
                "method": "POST",
                "data": form(),
                "unchanged": rows("accounts.User", ("session_epoch",), pk=w("H_former_user")),
                "writes": system_only,
            }
        },
    ),
    *row("audit:list", system_only),
    # failed logins, lockouts and successes (django-axes); ?unlock= asks before unlocking
    *row(
        "audit:authentication",
        system_only,
        variants={"unlock": {"query": literal(unlock="gate-sysadmin")}},
    ),
    # a system admin unlocks an account: its failed attempts go, an audit entry records it
    *row(
        "audit:authentication_unlock",
        system_only,
        method="POST",
        data=form(username="gate-sysadmin"),
        unchanged=rows(
            "audit.AuditEntry",
            ("action", "target_id"),
            action=lambda w, s: "authentication.unlocked",
        ),
        writes=system_only,
    ),
    # --- Cases: the caseload, the searches ---------------------------------------------------
    # the filter is POSTed (a name stays out of the URL); scope and due may stay in a GET
    *row(
        "cases:caseload",
        client_work,
        client_data=True,
        variants={
            "agency": {"query": literal(scope="agency", due="1")},
            "filter": {"method": "POST", "data": form(q="ZQ"), "ok": OK},
            "htmx": {"method": "POST", "data": form(q="ZQ"), "ok": OK, "htmx": "caseload-list"},
        },
    ),
    # one case's row, refreshed after a consultation is logged from it
    *row(
        "cases:caseload_row", holder, CASE, variants={"agency": {"query": literal(scope="agency")}}
    ),
    # "ZQ" begins every sentinel name: only H's staff may find the five. The search is POSTed
    # (a name stays out of the URL); a GET is the empty form
    *row(
        "cases:client_search",
        client_work,
        client_data=True,
        variants={
            "name": {"method": "POST", "data": form(q="ZQ"), "ok": OK},
            "htmx": {"method": "POST", "data": form(q="ZQ"), "ok": OK, "htmx": "results"},
        },
    ),
    # the client picker of the forms (支援会議 agenda, household member): the kana search,
    # POSTed, at most 15, nothing logged (as the search)
    *row(
        "cases:client_pick",
        client_work,
        method="POST",
        data=form(),
        ok=OK,
        client_data=True,
        variants={"name": {"data": form(q="ZQ"), "htmx": "client_listbox"}},
    ),
    *row("cases:client_create", client_work),
    # --- Cases: one client of H ----------------------------------------------------------------
    *row("cases:client", holder, CLIENT),
    *row("cases:client_edit", holder, CLIENT),
    # an earlier first contact than the one the home visit recorded
    *row(
        "cases:client_first_contact",
        holder,
        CLIENT,
        method="POST",
        data=form(on=days_ago(30)),
        unchanged=rows("cases.Client", ("first_direct_contact_on",), public_id=at("client")),
        writes=holder,
    ),
    *row(
        "cases:client_timeline",
        holder,
        CLIENT,
        variants={
            "kinds": {"query": literal(kind=["consultation", "plan", "consent", "referral"])},
            # a later page (an edited cursor starts from the top: still the holder's)
            "after": {"query": literal(after="WyIyMDk5LTAxLTAxIl0="), "htmx": "timeline"},
        },
    ),
    # the client page's sections that load when opened (htmx fragments of the page; the
    # consent, emergency, council and referral ones are in their apps below)
    # its filter is POSTed (a staff member's name stays out of the URL)
    *row(
        "cases:client_access_log",
        holder,
        CLIENT,
        htmx="access-log-section",
        variants={"filter": {"method": "POST", "data": form(who="ZQ"), "ok": OK}},
    ),
    *row("cases:client_supporters", holder, CLIENT, htmx="supporters-section"),
    *row("cases:client_case_history", holder, CLIENT, htmx="case-history-section"),
    *row("cases:household_edit", holder, CLIENT),
    *row("cases:member_add", holder, CLIENT),
    *row("cases:member_edit", holder, of(public_id="client", member_id="member")),
    *row(
        "cases:member_remove",
        holder,
        of(public_id="client", member_id="member"),
        method="POST",
        unchanged=rows(
            "cases.HouseholdMember", ("id",), household__clients__public_id=at("client")
        ),
        writes=holder,
    ),
    *row("cases:case_open", holder, CLIENT),
    *row("cases:case_edit", holder, CASE),
    *row("cases:case_stage", holder, CASE),
    *row("cases:case_close", holder, CASE),
    *row("cases:case_reopen", holder, CASE),
    *row("cases:consultation_new", holder, CASE),
    *row("cases:consultation", holder, of(public_id="consultation")),
    *row("cases:consultation_edit", holder, of(public_id="consultation")),
    # --- Cases: the plan (a draft, two support items) --------------------------------------------
    # a second draft is refused on the client page
    *row("cases:plan_create", holder, CASE, method="POST", unchanged=PLAN_ROWS),
    *row("cases:plan", holder, PLAN_ID),
    *row(
        "cases:plan_update",
        holder,
        PLAN_ID,
        method="POST",
        data=form(client_words="外に出たい", review_on=""),
        unchanged=PLAN_ROWS,
        writes=holder,
    ),
    *row(
        "cases:plan_goal_add",
        holder,
        PLAN_ID,
        method="POST",
        data=form(**{"new_goal-text": "月1回面談に来る"}),
        unchanged=GOALS,
        writes=holder,
    ),
    *row("cases:plan_goal_edit", holder, of(public_id="plan", goal_id="goal")),
    *row(
        "cases:plan_goal_remove",
        holder,
        of(public_id="plan", goal_id="goal"),
        method="POST",
        unchanged=GOALS,
        writes=holder,
    ),
    *row(
        "cases:plan_item_add",
        holder,
        PLAN_ID,
        method="POST",
        data=form(
            **{
                "new_item-what": "就労体験",
                "new_item-agency": w("H_pk"),
                "new_item-program": "",
                "new_item-frequency": "週1回",
                "new_item-responsible": "",
                "new_item-goal": "",
            }
        ),
        unchanged=ITEMS,
        writes=holder,
    ),
    # the second item moves up
    *row(
        "cases:plan_items_reorder",
        holder,
        PLAN_ID,
        method="POST",
        data=client_form(
            order=lambda world, state: [at(k)(world, state) for k in ("item2", "item")]
        ),
        unchanged=ITEMS,
        writes=holder,
    ),
    *row("cases:plan_item_edit", holder, of(public_id="plan", item_id="item")),
    *row(
        "cases:plan_item_remove",
        holder,
        of(public_id="plan", item_id="item"),
        method="POST",
        unchanged=ITEMS,
        writes=holder,
    ),
    *row("cases:plan_agree", holder, PLAN_ID),
    # a draft cannot be revised or reviewed yet: its staff are sent back to it
    *row("cases:plan_revise", holder, PLAN_ID, ok=REDIRECT),
    *row("cases:plan_review", holder, PLAN_ID, ok=REDIRECT),
    *row("cases:plan_print", holder, PLAN_ID),
    # --- Cases: 支援調整会議 (hosted by H, every client discussed) -------------------------------
    *row("cases:meetings", client_work, client_data=True),
    *row("cases:meeting_create", client_work, client_data=True),
    *row("cases:meeting", holder, MEETING),
    *row("cases:meeting_edit", holder, MEETING),
    *row(
        "cases:meeting_case",
        holder,
        MEETING,
        variants={"case": {"query": of(case="case"), "htmx": "case-form"}},
    ),
    *row("cases:meeting_print", holder, MEETING),
    # --- Cases: supporters (H-dispatched is sent to every client) --------------------------------
    *row("cases:supporter_assign", holder, CLIENT),
    # the form names the client: the assignment is looked up among that client's
    *row(
        "cases:supporter_unassign",
        holder,
        of(assignment_id="assignment"),
        method="POST",
        data=client_form(client=at("client")),
        unchanged=rows("cases.SupporterAssignment", ("ended_on",), id=at("assignment")),
        writes=holder,
    ),
    *row(
        "cases:visit_acknowledge",
        holder,
        of(public_id="visit"),
        method="POST",
        unchanged=rows("cases.HomeVisit", ("acknowledged_at",), public_id=at("visit")),
        writes=holder,
    ),
    *row("cases:my_households", supporters, client_data=True),
    *row("cases:my_household", dispatched, CLIENT),
    # --- Consent and emergency disclosures: the holding agency's own records ---------------------
    *row("consent:client_consents", holder, CLIENT, htmx="consents-section"),
    *row("consent:client_emergencies", holder, CLIENT, htmx="emergency-section"),
    *row("consent:new", holder, of(client_id="client")),
    *row("consent:detail", holder, of(public_id="consent")),
    *row(
        "consent:withdraw",
        holder,
        of(public_id="consent"),
        method="POST",
        data=form(on=today, how="電話で撤回の申し出"),
        unchanged=rows("consent.Consent", ("ended_on", "withdrawn_how"), public_id=at("consent")),
        writes=holder,
    ),
    # no scan was uploaded: nothing to download, even for the holder (the download itself is
    # walked through in test_consent_views)
    *row("consent:scan", nobody, of(public_id="consent"), unlogged=holder),
    *row("consent:emergency_new", holder, of(client_id="client")),
    *row("consent:emergency_list", client_work, client_data=True),
    *row("consent:emergency_detail", holder, of(public_id="emergency")),
    # H's caseworker made it: only a supervisor of H reviews it
    *row(
        "consent:emergency_review",
        h_supervisor,
        of(public_id="emergency"),
        method="POST",
        data=form(note="必要な範囲の開示だった。本人には後日伝えた。"),
        unchanged=rows(
            "consent.EmergencyDisclosure", ("reviewed_at", "review_note"), public_id=at("emergency")
        ),
        writes=h_supervisor,
        unlogged=holder,
    ),
    *row(
        "consent:emergency_end",
        holder,
        of(public_id="emergency"),
        method="POST",
        unchanged=rows("consent.EmergencyDisclosure", ("ended_at",), public_id=at("emergency")),
        writes=holder,
    ),
    # --- Referrals: the accepted つなぎ to L and 共同支援 to J -----------------------------------
    *row("referrals:client_referrals", holder, CLIENT, htmx="referrals-section"),
    # the live view: the holder is sent to its own page; L and J, linked by the accepted
    # referrals, and anyone the oracle lets see something, see what it covers
    *row("referrals:shared_record", live_view, CLIENT, ok=holder_sent_on),
    *row(
        "referrals:new",
        holder,
        of(client_id="client"),
        # the form's categories, reloaded by htmx when the type or the agency changes
        variants={
            "categories": {
                "query": lambda world, state: {
                    "partial": "categories",
                    "type": "tsunagi",
                    "to_agency": str(world["L_id"]),
                },
                "htmx": "categories",
            }
        },
    ),
    *referral("referrals:detail", "sides"),
    # not a draft any more: its sender is sent back to the referral's page
    *referral("referrals:edit", "holder", ok=REDIRECT, unlogged="sides"),
    *referral("referrals:print", "holder", unlogged="sides"),
    # accepted already: the sender is told so on the page (200), nothing is sent or withdrawn
    *referral(
        "referrals:send",
        "holder",
        method="POST",
        ok=OK,
        unchanged="state",
        forbidden="receiver",
        unlogged="sides",
    ),
    *referral(
        "referrals:withdraw",
        "holder",
        method="POST",
        ok=OK,
        unchanged="state",
        forbidden="receiver",
        unlogged="sides",
    ),
    *referral(
        "referrals:message_post",
        "sides",
        method="POST",
        data=form(body="来週の面談日を相談させてください"),
        unchanged="thread",
        writes="sides",
    ),
    # the receiver's actions: the sender is refused them by the service (403); accepted
    # already, the receiver is told so on the page (200)
    *referral(
        "referrals:accept",
        "receiver",
        method="POST",
        data=form(assignee=""),
        ok=OK,
        unchanged="state",
        forbidden="holder",
        unlogged="sides",
    ),
    *referral(
        "referrals:decline",
        "receiver",
        method="POST",
        data=form(reason="対象外のため"),
        ok=OK,
        unchanged="state",
        forbidden="holder",
        unlogged="sides",
    ),
    *referral(
        "referrals:first_contact",
        "receiver",
        method="POST",
        data=form(on=today),
        unchanged="state",
        forbidden="holder",
        unlogged="sides",
        writes="receiver",
    ),
    # joint support: the 共同支援 to J only. No consent to J covers the support plan in any
    # state, so both sides' changes are refused by the service: they are told so on the page
    # (302), and nothing is written.
    *row("referrals:joint", sides("J"), of(public_id="referral_J")),
    *row(
        "referrals:joint_role",
        sides("J"),
        of(public_id="referral_J"),
        method="POST",
        data=form(
            joint_role="",
            role="employment",
            note="面接の練習",
            contact_user="",
            contact_name="担当 太郎",
            period_from=today,
            period_until="",
        ),
        unchanged=rows("referrals.JointRole", ("id",), referral__public_id=at("referral_J")),
    ),
    *row(
        "referrals:joint_policy",
        sides("J"),
        of(public_id="referral_J"),
        method="POST",
        data=form(text="本人の希望に沿って、就労に向けて一緒に支える"),
        unchanged=rows("referrals.SupportPolicy", ("id",), referral__public_id=at("referral_J")),
    ),
    *row("referrals:client_records", holder, of(client_id="client")),
    # the filter by name, and its CSV, are POSTed (a name stays out of the URL)
    *row(
        "referrals:records",
        client_work,
        client_data=True,
        variants={"name": {"method": "POST", "data": form(q="ZQ"), "ok": OK}},
    ),
    *row(
        "referrals:records_csv",
        client_work,
        client_data=True,
        variants={"name": {"method": "POST", "data": form(q="ZQ"), "ok": OK}},
    ),
    *row("referrals:incoming", supervisors, client_data=True, variants={"htmx": {"htmx": "queue"}}),
    *row("referrals:outgoing", client_work, client_data=True),
    # L's supervisor assigns the つなぎ of state "some" to L's caseworker; other supervisors
    # find neither the referral nor the worker in their queue
    *row(
        "referrals:assign",
        supervisors,
        method="POST",
        client_data=True,
        data=form(
            referral=lambda world, state: [world["states"]["some"]["referral_L"]],
            assignee=w("L_cw_user"),
        ),
        unchanged=lambda world, state: rows(
            "referrals.Referral", REFERRAL_FIELDS, public_id=at("referral_L")
        )(world, "some"),
        writes=lambda persona, state=None: persona == "L-supervisor",
    ),
    # --- 支援会議 of 長野市 (H the secretariat, C a member, every client on today's agenda) ------
    *row("councils:client_councils", holder, CLIENT, htmx="councils-section"),
    *row("councils:list", councils_page, client_data=True),
    *row("councils:create", system_only),
    *row("councils:detail", council_members, fixed(public_id="council_id"), client_data=True),
    *row("councils:edit", system_only, fixed(public_id="council_id")),
    *row(
        "councils:end",
        system_only,
        fixed(public_id="council_id"),
        method="POST",
        data=form(ended_on=today),
        unchanged=rows("councils.SupportCouncil", ("ended_on",), public_id=w("council_id")),
        writes=system_only,
    ),
    *row("councils:member_add", council_runner, fixed(public_id="council_id")),
    *row(
        "councils:member_leave",
        council_runner,
        fixed(public_id="council_id", member_id="C_member"),
        method="POST",
        unchanged=rows("councils.CouncilMember", ("left_on",), id=w("C_member")),
        writes=council_runner,
    ),
    *row("councils:session_create", council_runner, fixed(public_id="council_id")),
    *row("councils:session", council_members, fixed(public_id="session_id"), client_data=True),
    *row("councils:session_edit", council_runner, fixed(public_id="session_id"), client_data=True),
    *row("councils:minutes", council_runner, fixed(public_id="session_id"), client_data=True),
    *row(
        "councils:agenda_add",
        council_member_staff,
        fixed(public_id="session_id"),
        client_data=True,
        # the session page with the agenda form opened for this client (?client=…): refused
        # at the council, before any client is looked up, so nothing to log
        variants={"client": {"query": of(client="client"), "unlogged": everyone}},
    ),
    # the holder, or whoever runs the council, takes a person off the agenda (the council's
    # other members see the item: refusing them an action needs no log entry)
    *row(
        "councils:agenda_withdraw",
        holder_or_sysadmin,
        of(public_id="agenda"),
        method="POST",
        unchanged=rows("councils.AgendaItem", ("withdrawn_at",), public_id=at("agenda")),
        writes=holder_or_sysadmin,
        unlogged=council_member_staff,
    ),
    # --- Reminders: everyone signed in has their own (possibly empty) notification centre --------
    *row(
        "reminders:list", signed_in, client_data=True, variants={"htmx": {"htmx": "reminder-more"}}
    ),
    *row("reminders:badge", signed_in),
    # nobody's reminder: a 404 for everyone signed in
    *row(
        "reminders:read",
        nobody,
        literal(public_id="00000000-0000-0000-0000-000000000000"),
        method="POST",
        unchanged=REMINDERS,
    ),
    *row("reminders:read_all", signed_in, method="POST", unchanged=REMINDERS),
    *row("reminders:preferences", signed_in),
    *row("reminders:agency_settings", h_roster, H_AGENCY),
)

# Every request of the registry by its key (name, or name@variant).
REQUESTS: dict[str, Url] = {url.key: url for url in REGISTRY}
assert len(REQUESTS) == len(REGISTRY), "two rows share a key"
NAMES = frozenset(url.name for url in REGISTRY)
