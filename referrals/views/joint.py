"""Joint support (共同支援): the roles each agency takes on, side by side, and the support policy
both align on, with its history.

Caseworkers and supervisors of either agency reach it once the joint referral was accepted;
anyone else gets a 404. Each agency records its own roles.
"""

from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from consent.gate import NOT_CONSENTED
from core.forms import add_service_errors

from ..forms import JointRoleForm, PolicyForm
from ..selectors import JointSupport, joint_contact_choices, joint_support_get
from ..services import (
    CONSENT_NOT_COVERING,
    joint_role_save,
    support_policy_agree,
    support_policy_propose,
)


def _role_initial(data: JointSupport, role_id: str | None, agency_id: int) -> dict:
    for role in data.roles_of(agency_id):
        if str(role.public_id) == role_id:
            return {
                "joint_role": role.public_id,
                "role": role.role,
                "note": role.note,
                "contact_user": role.contact_user_id,
                "contact_name": role.contact_name,
                "period_from": role.period_from,
                "period_until": role.period_until,
            }
    return {"period_from": timezone.localdate()}


def _page(
    request: HttpRequest,
    data: JointSupport,
    *,
    role_form: JointRoleForm | None = None,
    policy_form: PolicyForm | None = None,
) -> HttpResponse:
    agency_id = request.viewer.membership.agency_id
    if role_form is None and data.may_change:
        role_form = JointRoleForm(
            staff=joint_contact_choices(viewer=request.viewer),
            initial=_role_initial(data, request.GET.get("edit"), agency_id),
        )
    if policy_form is None and data.may_change:
        current = data.current_policy
        policy_form = PolicyForm(initial={"text": current.text if current else ""})
    return render(
        request,
        "referrals/joint.html",
        {
            "data": data,
            "referral": data.referral,
            "own_agency_id": agency_id,
            "role_form": role_form,
            "policy_form": policy_form,
            "editing": bool(role_form and role_form["joint_role"].value()),
            "policies_newest_first": list(reversed(data.policies)),
            "not_consented": NOT_CONSENTED,
            "consent_not_covering": CONSENT_NOT_COVERING,
        },
    )


def _joint_url(data: JointSupport, anchor: str) -> str:
    return reverse("referrals:joint", kwargs={"public_id": data.referral.public_id}) + anchor


def _refused(
    request: HttpRequest, data: JointSupport, error: ValidationError, anchor: str
) -> HttpResponse:
    """The joint support ended, or the consent did, while the page was open: say so on the
    page, which no longer offers the forms."""
    for message in error.messages:
        messages.error(request, message)
    return redirect(_joint_url(data, anchor))


@require_GET
def joint_support(request: HttpRequest, public_id: UUID) -> HttpResponse:
    data = joint_support_get(viewer=request.viewer, public_id=public_id)
    return _page(request, data)


@require_POST
def role_save(request: HttpRequest, public_id: UUID) -> HttpResponse:
    data = joint_support_get(viewer=request.viewer, public_id=public_id)
    form = JointRoleForm(request.POST, staff=joint_contact_choices(viewer=request.viewer))
    if form.is_valid():
        role = None
        if form.cleaned_data["joint_role"]:
            # Only the viewer's own agency's roles can be changed: look among those alone.
            own = data.roles_of(request.viewer.membership.agency_id)
            role = next((r for r in own if r.public_id == form.cleaned_data["joint_role"]), None)
            if role is None:
                form.add_error(None, _("That role is no longer there. Reload the page."))
        if not form.errors:
            try:
                joint_role_save(
                    viewer=request.viewer,
                    referral=data.referral,
                    fields=form.service_fields(),
                    role=role,
                )
            except ValidationError as error:
                if not data.may_change:
                    return _refused(request, data, error, "#roles")
                add_service_errors(form, error)
            else:
                messages.success(request, _("The role was saved."))
                return redirect(_joint_url(data, "#roles"))
    return _page(request, data, role_form=form)


@require_POST
def policy_save(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """Propose a new text, or (action=agree) agree to the latest version."""
    data = joint_support_get(viewer=request.viewer, public_id=public_id)
    if request.POST.get("action") == "agree":
        current = data.current_policy
        wanted = request.POST.get("policy", "")
        try:
            if current is None or str(current.pk) != wanted:
                raise ValidationError(
                    _("A newer version has been proposed since. Read it, then agree to that one.")
                )
            support_policy_agree(viewer=request.viewer, referral=data.referral, policy=current)
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
        else:
            messages.success(request, _("Your agency agreed to the support policy."))
        return redirect(_joint_url(data, "#policy"))
    form = PolicyForm(request.POST)
    if form.is_valid():
        try:
            support_policy_propose(
                viewer=request.viewer, referral=data.referral, text=form.cleaned_data["text"]
            )
        except ValidationError as error:
            if not data.may_change:
                return _refused(request, data, error, "#policy")
            add_service_errors(form, error)
        else:
            messages.success(
                request, _("The support policy was proposed to the other agency for agreement.")
            )
            return redirect(_joint_url(data, "#policy"))
    return _page(request, data, policy_form=form)
