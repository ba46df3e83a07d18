"""The live view of a partner agency's record: what the gate lets this viewer see today, with
"同意なし" where it does not, and the basis of everything shown."""

from uuid import UUID

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from cases.views.clients import section_view
from consent.gate import Basis
from consent.live_view import shared_record_get

from ..selectors import referral_list_for_client, referrals_linking


@require_GET
def shared_record(request: HttpRequest, public_id: UUID) -> HttpResponse:
    record = shared_record_get(viewer=request.viewer, public_id=public_id)
    if record.access.is_holder:
        # The agency's own record: the client page shows all of it.
        return redirect("cases:client", public_id=public_id)
    return render(
        request,
        "referrals/shared_record.html",
        {
            "record": record,
            "basis_labels": Basis.LABELS,
            "Basis": Basis,
            "links": referrals_linking(viewer=request.viewer, client=record.client),
        },
    )


client_referrals_section = section_view("referrals", "referrals", referral_list_for_client)
