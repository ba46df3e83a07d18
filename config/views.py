"""The project's own pages, above every app: the start page that sends each role to where its
day begins, and the health check for the load balancer."""

from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from agencies.permissions import is_system_admin
from cases.permissions import can_work_with_clients, is_supporter
from config.celery import app as celery_app


@require_GET  # a start page: a POST to it is refused (405), not silently answered
def home(request: HttpRequest) -> HttpResponse:
    if request.membership is None and not is_system_admin(request.user):
        return redirect("agencies:choose")
    # Caseworkers and supervisors start the day at their caseload.
    if can_work_with_clients(request.viewer):
        return redirect("cases:caseload")
    # Supporters start at the households they visit.
    if is_supporter(request.viewer):
        return redirect("cases:my_households")
    return render(request, "accounts/home.html")


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:
        return False


def _broker_ok() -> bool:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return True
    except Exception:
        return False


@login_not_required
@never_cache
@require_GET
def health(request: HttpRequest) -> JsonResponse:
    """For the load balancer: 200 when the database and the broker answer, else 503."""
    checks = {"database": _database_ok(), "broker": _broker_ok()}
    healthy = all(checks.values())
    return JsonResponse(
        {
            "status": "ok" if healthy else "fail",
            **{k: "ok" if v else "fail" for k, v in checks.items()},
        },
        status=200 if healthy else 503,
    )
