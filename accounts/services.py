from django.db import transaction

from .models import AuthenticationEvent, AuthenticationEventKind


@transaction.atomic
def authentication_event_record(
    *, user, kind: AuthenticationEventKind, ip_address: str | None, actor=None
) -> AuthenticationEvent:
    """Write one session event to the authentication log: ``actor`` None when the system ended
    the session by itself (idle, lifetime)."""
    return AuthenticationEvent.objects.create(
        kind=kind, user=user, username=user.get_username(), ip_address=ip_address, actor=actor
    )
