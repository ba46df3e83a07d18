"""Two-factor login: a TOTP authenticator app, with ten backup codes (django-otp).

The flow:

- The password form (``views.LoginView``) checks the password. A user with a confirmed
  authenticator is *not* logged in yet: the session holds only who passed the password
  (``PENDING``), and the code page (``views.verify``) logs them in once the one-time code or a
  backup code is right. So django-axes counts a success only when both factors passed, and a
  wrong code counts as a failed login (lockout included) like a wrong password.
- Who must have a second factor is the roster's rule (``agencies.permissions
  .must_use_second_factor``); ``agencies.middleware.SecondFactorMiddleware`` enforces it and
  stores the answer at login in the session (``REQUIRED``). A user who must but has none is
  sent to the enrolment right after the password and reaches nothing else but the logout.
- Changing the password or the second factor asks for the password again when the last one is
  older than ``TSUNAGU_REAUTHENTICATION_MINUTES`` (``accounts.reauth``).
"""

# Session keys.
PENDING = "tsunagu_2fa_pending"  # {"user": id, "backend": dotted path, "at": Unix seconds}
REQUIRED = "tsunagu_2fa_required"  # bool, written at login by the roster's rule
NEW_BACKUP_CODES = "tsunagu_2fa_new_codes"  # shown once, then dropped
ENROLMENT = "tsunagu_2fa_enrolment"  # {"user": id, "key": hex}: the secret being set up

# How long the code page waits for the code after the password was right.
PENDING_SECONDS = 5 * 60
BACKUP_CODE_COUNT = 10
