"""Tsunagu settings: one module, driven by the environment.

Two shapes, chosen by ``DJANGO_ENV``:

- ``development`` (the default): the embedded default the README's run command uses. SQLite, a
  filesystem broker and the generated secret all live under ``var/`` so a fresh clone needs no
  services at all.
- ``production``: everything comes from the environment and the app refuses to start without
  ``SECRET_KEY``, ``ALLOWED_HOSTS`` and ``DATABASE_URL``.

The helpers below fail loudly on a value they cannot parse: a typo in a deployment's environment
must stop the process, not silently fall back to a default.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

# Every environment variable the settings read, so tests can check that docker-compose.yml
# passes only variables that mean something here.
ENV_VARS_READ: set[str] = set()

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None) -> str | None:
    ENV_VARS_READ.add(name)
    return os.environ.get(name, default)


def env_required(name: str) -> str:
    value = env_str(name)
    if not value:
        raise ImproperlyConfigured(f"{name} must be set in the environment (DJANGO_ENV={ENV}).")
    return value


def env_bool(name: str, default: bool) -> bool:
    raw = env_str(name)
    if raw is None:
        return default
    lowered = raw.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use true or false).")


def env_int(name: str, default: int) -> int:
    raw = env_str(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer.") from None


def env_list(name: str, default: list[str]) -> list[str]:
    raw = env_str(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


ENV = env_str("DJANGO_ENV", "development")
if ENV not in {"development", "production"}:
    raise ImproperlyConfigured(f"DJANGO_ENV={ENV!r}: use development or production.")
PRODUCTION = ENV == "production"

# Everything the embedded default writes lives here (git-ignored).
VAR_DIR = Path(env_str("TSUNAGU_VAR_DIR", str(BASE_DIR / "var")))


def _development_secret_key() -> str:
    """A per-checkout secret, generated once and kept in var/ (never committed)."""
    from django.core.management.utils import get_random_secret_key

    path = VAR_DIR / "secret_key"
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(get_random_secret_key())
        path.chmod(0o600)
    return path.read_text().strip()


if PRODUCTION:
    SECRET_KEY = env_required("SECRET_KEY")
    ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [])
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("ALLOWED_HOSTS must be set in the environment in production.")
    DEBUG = False
else:
    SECRET_KEY = env_str("SECRET_KEY") or _development_secret_key()
    ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
    DEBUG = env_bool("DEBUG", True)

CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "config.apps.TsunaguAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    "core",
    "audit",
    "accounts",
    "agencies",
    "cases",
    "consent",
    "councils",
    "referrals",
    "reminders",
    "demo",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Every response says where its scripts and styles may come from (SECURE_CSP below).
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Below WhiteNoise: static files keep their cache, every page of the app is kept nowhere.
    "core.middleware.NoStoreMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): whether this session passed the second factor.
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After messages (the timeout's message rides on the redirect to the login page), before
    # anything that acts for the user: an ended session reaches no further.
    "accounts.middleware.SessionLifetimeMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "agencies.middleware.CurrentAgencyMiddleware",
    # After the current agency (its rule counts at once): who must have a second factor and
    # has not passed it reaches only the code page or the enrolment.
    "agencies.middleware.SecondFactorMiddleware",
    "audit.middleware.AccessLogMiddleware",
    # Last: answers a locked-out login with templates/registration/locked_out.html.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "agencies.context_processors.current_agency",
                "accounts.context_processors.session_timing",
            ],
        },
    },
]

# --- Database --------------------------------------------------------------------------------

if PRODUCTION:
    _database_url = env_required("DATABASE_URL")
else:
    _database_url = env_str("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'tsunagu.sqlite3'}"

DATABASES = {
    "default": dj_database_url.parse(_database_url, conn_max_age=env_int("DB_CONN_MAX_AGE", 0))
}
if PRODUCTION and DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file on one host's disk: a second web host or a worker elsewhere would each see a
    # database of their own (sessions, claims, the access log). See docs/scaling.md.
    raise ImproperlyConfigured("DATABASE_URL must be PostgreSQL in production, not SQLite.")
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    # The web server and the Celery worker write to the same file side by side: WAL lets readers
    # go on during a write, the busy timeout waits instead of failing, and IMMEDIATE transactions
    # take the write lock up front so two writers never deadlock upgrading a read lock.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Authentication ----------------------------------------------------------------------------

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "agencies:choose"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Session lifetimes (accounts.middleware.SessionLifetimeMiddleware): a session ends after
# TSUNAGU_SESSION_IDLE_MINUTES without a request the person made (background polling does not
# count), and TSUNAGU_SESSION_MAX_HOURS after its login whatever happens. The page warns
# TSUNAGU_SESSION_WARNING_SECONDS before the idle end, with a button to stay logged in. The
# cookie and the session row never outlive the absolute lifetime either.
TSUNAGU_SESSION_IDLE = timedelta(minutes=env_int("TSUNAGU_SESSION_IDLE_MINUTES", 30))
TSUNAGU_SESSION_MAX_AGE = timedelta(hours=env_int("TSUNAGU_SESSION_MAX_HOURS", 12))
TSUNAGU_SESSION_WARNING = timedelta(seconds=env_int("TSUNAGU_SESSION_WARNING_SECONDS", 120))
for _name, _value in (
    ("TSUNAGU_SESSION_IDLE_MINUTES", TSUNAGU_SESSION_IDLE.total_seconds() // 60),
    ("TSUNAGU_SESSION_MAX_HOURS", TSUNAGU_SESSION_MAX_AGE.total_seconds() // 3600),
    ("TSUNAGU_SESSION_WARNING_SECONDS", TSUNAGU_SESSION_WARNING.total_seconds()),
):
    if _value < 1:
        raise ImproperlyConfigured(f"{_name}={_value:g} must be at least 1.")
if TSUNAGU_SESSION_WARNING >= TSUNAGU_SESSION_IDLE:
    raise ImproperlyConfigured(
        "TSUNAGU_SESSION_WARNING_SECONDS must be shorter than the idle timeout."
    )
SESSION_COOKIE_AGE = int(TSUNAGU_SESSION_MAX_AGE.total_seconds())
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# Repeated failed logins lock out (django-axes): after TSUNAGU_LOGIN_FAILURE_LIMIT failures for
# one user name, or from one address, that user name or that address is refused for
# TSUNAGU_LOGIN_COOLOFF_MINUTES, even with the right password. Each is counted on its own: one
# account tried from many addresses, and one address trying many accounts. A success resets the
# count; a system admin can unlock an account from the authentication log (audit:authentication).
# accounts.backends.LockoutBackend is axes.backends.AxesStandaloneBackend, skipped when
# authenticate() is called without a request (no address to count: the test client, a shell).
AUTHENTICATION_BACKENDS = [
    "accounts.backends.LockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("TSUNAGU_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("TSUNAGU_LOGIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_HTTP_RESPONSE_CODE = 429
AXES_ENABLE_ADMIN = False
AXES_VERBOSE = False
AXES_USERNAME_CALLABLE = "accounts.backends.lockout_username"
# The client's address (django-ipware, through axes): REMOTE_ADDR, unless Tsunagu runs behind
# TSUNAGU_TRUSTED_PROXY_COUNT reverse proxies that each append the address they were reached from
# to X-Forwarded-For; then the entry that many from the right (ipware counts the proxies listed
# after the client, one fewer: the last proxy is REMOTE_ADDR). Whatever a client writes into the
# header itself lies further left and is never read, so it cannot pick a new address for each try.
TSUNAGU_TRUSTED_PROXY_COUNT = env_int("TSUNAGU_TRUSTED_PROXY_COUNT", 0)
if TSUNAGU_TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured("TSUNAGU_TRUSTED_PROXY_COUNT must be 0 or more.")
# A longer chain (the client's own header in front) is read from the right, not refused.
IPWARE_STRICT = False
if TSUNAGU_TRUSTED_PROXY_COUNT:
    AXES_IPWARE_PROXY_COUNT = TSUNAGU_TRUSTED_PROXY_COUNT - 1
    AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]
else:
    AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]
for _name, _value in (
    ("TSUNAGU_LOGIN_FAILURE_LIMIT", AXES_FAILURE_LIMIT),
    ("TSUNAGU_LOGIN_COOLOFF_MINUTES", AXES_COOLOFF_TIME.total_seconds() // 60),
):
    if _value < 1:
        raise ImproperlyConfigured(f"{_name}={_value:g} must be at least 1.")

# Two-factor login (django-otp, accounts.two_factor): TOTP codes from an authenticator app,
# shown in the app under this name. Changing the password or the second factor asks for the
# password again when it was last typed more than TSUNAGU_REAUTHENTICATION_MINUTES ago.
OTP_TOTP_ISSUER = env_str("TSUNAGU_OTP_ISSUER", "Tsunagu")
# The Django admin lists authenticator devices: never their secrets or backup codes.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
_reauthentication_minutes = env_int("TSUNAGU_REAUTHENTICATION_MINUTES", 5)
if _reauthentication_minutes < 1:
    raise ImproperlyConfigured("TSUNAGU_REAUTHENTICATION_MINUTES must be at least 1.")
TSUNAGU_REAUTHENTICATION = timedelta(minutes=_reauthentication_minutes)

# --- Internationalisation ---------------------------------------------------------------------

LANGUAGE_CODE = "ja"
LANGUAGES = [("ja", _("Japanese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Tokyo"
USE_I18N = True
USE_TZ = True

# --- Static files -----------------------------------------------------------------------------

STATIC_URL = "static/"
STATIC_ROOT = Path(
    env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles" if PRODUCTION else VAR_DIR / "static"))
)
if not PRODUCTION:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns about a missing folder
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Uploaded files (consent scans) are personal data: never under a public URL.
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- Celery -----------------------------------------------------------------------------------

REDIS_URL = env_str("REDIS_URL")
BROKER_DIR = VAR_DIR / "broker"
# How long Redis keeps an unacknowledged message (acks_late) before handing it to another
# worker: a worker killed mid-task has its message redelivered after this many seconds. It must
# outlast the longest task and the longest retry countdown (checked below); tests make it short.
CELERY_BROKER_VISIBILITY_TIMEOUT = env_int("CELERY_BROKER_VISIBILITY_TIMEOUT", 60 * 60)
if REDIS_URL or PRODUCTION:
    CELERY_BROKER_URL = REDIS_URL or env_required("REDIS_URL")
    CELERY_BROKER_TRANSPORT_OPTIONS: dict = {"visibility_timeout": CELERY_BROKER_VISIBILITY_TIMEOUT}
else:
    # The embedded broker: kombu's filesystem transport needs no server and survives restarts,
    # which is all one machine running the demo needs. See README.
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        # Without this kombu writes its exchange tables to ./control in the working directory.
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
    for _folder in ("queue", "processed", "control"):
        (BROKER_DIR / _folder).mkdir(parents=True, exist_ok=True)
# Results are not needed by the app (the database row is the truth); a backend can be set for
# diagnostics and for the broker round-trip test.
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND") or None
CELERY_TASK_ALWAYS_EAGER = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Where tasks go when no queue is named: tests give each worker process a queue of its own so
# two test runs sharing a Redis never take each other's messages.
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_TASK_DEFAULT_QUEUE", "celery")

# Reminders: links in emails need the address people open Tsunagu at. A failed email is retried
# after REMINDERS_RETRY_BACKOFF_SECONDS, doubling each time up to the maximum; a transient
# failure (the server down, a timeout, a 4xx) for as long as it lasts, a permanent refusal (a
# 5xx for the recipient or the data) REMINDERS_SEND_MAX_ATTEMPTS tries in all, after which the
# row waits, given up, for an operator. A row claimed by a sender and still unsent after
# REMINDERS_CLAIM_GRACE_SECONDS belongs to a dead sender and may be claimed again; the
# reconciler runs every REMINDERS_RECONCILE_SECONDS and re-queues such rows and rows whose
# message was lost (a row put on the broker is not put there again within the grace period).
# Tests make all of these seconds.
BASE_URL = env_str("BASE_URL", "http://127.0.0.1:8000")
REMINDERS_RETRY_BACKOFF_SECONDS = env_int("REMINDERS_RETRY_BACKOFF_SECONDS", 60)
REMINDERS_RETRY_BACKOFF_MAX_SECONDS = env_int("REMINDERS_RETRY_BACKOFF_MAX_SECONDS", 30 * 60)
REMINDERS_SEND_MAX_ATTEMPTS = env_int("REMINDERS_SEND_MAX_ATTEMPTS", 8)
REMINDERS_CLAIM_GRACE_SECONDS = env_int("REMINDERS_CLAIM_GRACE_SECONDS", 10 * 60)
REMINDERS_RECONCILE_SECONDS = env_int("REMINDERS_RECONCILE_SECONDS", 60)
# The demo (bin/run) sweeps as soon as the worker is up, so reminders arrive within a minute.
REMINDERS_SWEEP_ON_WORKER_START = env_bool("REMINDERS_SWEEP_ON_WORKER_START", False)
for _name, _value in (
    ("REMINDERS_RETRY_BACKOFF_SECONDS", REMINDERS_RETRY_BACKOFF_SECONDS),
    ("REMINDERS_SEND_MAX_ATTEMPTS", REMINDERS_SEND_MAX_ATTEMPTS),
    ("REMINDERS_CLAIM_GRACE_SECONDS", REMINDERS_CLAIM_GRACE_SECONDS),
    ("REMINDERS_RECONCILE_SECONDS", REMINDERS_RECONCILE_SECONDS),
    ("CELERY_BROKER_VISIBILITY_TIMEOUT", CELERY_BROKER_VISIBILITY_TIMEOUT),
):
    if _value < 1:
        raise ImproperlyConfigured(f"{_name}={_value} must be at least 1.")
# A sender holds a claim for one SMTP exchange; the grace must outlast it, or a slow server
# could see the same reminder claimed twice. EMAIL_TIMEOUT bounds each socket operation, not the
# exchange: a plain exchange waits for six replies before its data is accepted (the greeting on
# connect, EHLO, MAIL FROM, RCPT TO, DATA and the end of the data), each up to EMAIL_TIMEOUT, and
# STARTTLS and AUTH add more. So the grace must be longer than six timeouts; the defaults (600 s
# against 30 s) leave room for those too.
_email_timeout = env_int("EMAIL_TIMEOUT", 30)
if 6 * _email_timeout >= REMINDERS_CLAIM_GRACE_SECONDS:
    raise ImproperlyConfigured(
        "REMINDERS_CLAIM_GRACE_SECONDS must be longer than 6 × EMAIL_TIMEOUT (one SMTP "
        "exchange is several socket operations, each with its own timeout)."
    )
if REMINDERS_RETRY_BACKOFF_MAX_SECONDS >= CELERY_BROKER_VISIBILITY_TIMEOUT:
    # A retry waiting longer than the visibility timeout would be redelivered while it waits.
    raise ImproperlyConfigured(
        "REMINDERS_RETRY_BACKOFF_MAX_SECONDS must be shorter than CELERY_BROKER_VISIBILITY_TIMEOUT."
    )

# --- Email ------------------------------------------------------------------------------------

DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "tsunagu@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
_email_host = env_str("EMAIL_HOST", "")
if PRODUCTION and not _email_host:
    _email_host = env_required("EMAIL_HOST")
if _email_host:
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": _email_host,
                "port": env_int("EMAIL_PORT", 587),
                "username": env_str("EMAIL_HOST_USER", ""),
                "password": env_str("EMAIL_HOST_PASSWORD", ""),
                "use_tls": env_bool("EMAIL_USE_TLS", True),
                "timeout": _email_timeout,
            },
        }
    }
else:
    # A person running the demo reads what would have been sent in var/mail/.
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "OPTIONS": {"file_path": str(VAR_DIR / "mail")},
        }
    }

# --- Security ---------------------------------------------------------------------------------

SESSION_COOKIE_HTTPONLY = True
# A message can name a person ("The urgent visit to 山本 太郎 was acknowledged"): it waits for
# the next page in the session, on the server, not in a cookie the browser keeps (signed, not
# encrypted).
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the cookie-free meta tag instead
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Content-Security-Policy: scripts only from our own static files (each tag also carries the
# request's nonce), no inline script or event handler, no eval; a <style> element needs the
# nonce and no style="" attribute is honoured. Bootstrap's own CSS draws its icons as data: SVG,
# hence data: for images. Nothing may frame the app, and forms post only to it.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    # __Host-: the browser takes these cookies only over HTTPS, for this host alone and the whole
    # path, so no sibling subdomain can set or shadow them (ASVS 3.3.1). Renaming them logs
    # everyone out once, at the deployment that does it.
    SESSION_COOKIE_NAME = "__Host-tsunagu-session"
    CSRF_COOKIE_NAME = "__Host-tsunagu-csrf"
    # The health endpoint is probed over plain HTTP by the load balancer inside the network.
    SECURE_REDIRECT_EXEMPT = [r"^health/$"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # No query string in a request line of a log (core.logging): a name typed into an old
    # search URL must not end up in a file kept for months. The gunicorn access log:
    # config/gunicorn.py.
    "filters": {"without_query_string": {"()": "core.logging.WithoutQueryString"}},
    "formatters": {
        # Django's own for runserver's request lines (DEFAULT_LOGGING), which this replaces.
        "django.server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        }
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler"},
        "django.server": {"class": "logging.StreamHandler", "formatter": "django.server"},
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "django.server": {
            "handlers": ["django.server"],
            "filters": ["without_query_string"],
            "level": "INFO",
            "propagate": False,
        },
        "django.request": {"filters": ["without_query_string"]},
    },
}

# --- Lawful bases without consent ----------------------------------------------------------------

# An emergency disclosure (個人情報保護法 27条1項2号) is shared for this long, then ends itself.
EMERGENCY_DISCLOSURE_HOURS = env_int("EMERGENCY_DISCLOSURE_HOURS", 72)
# A 支援会議 session shares its agenda from this many days before it is held until this many days
# after (the secretariat may set other dates per session).
COUNCIL_SHARING_DAYS_BEFORE = env_int("COUNCIL_SHARING_DAYS_BEFORE", 7)
COUNCIL_SHARING_DAYS_AFTER = env_int("COUNCIL_SHARING_DAYS_AFTER", 7)
# However the secretariat sets a session's dates, sharing never starts more than this many days
# before the session nor ends more than this many days after it: the basis is the meeting.
COUNCIL_SHARING_MAX_DAYS_BEFORE = env_int("COUNCIL_SHARING_MAX_DAYS_BEFORE", 30)
COUNCIL_SHARING_MAX_DAYS_AFTER = env_int("COUNCIL_SHARING_MAX_DAYS_AFTER", 30)
if COUNCIL_SHARING_DAYS_BEFORE > COUNCIL_SHARING_MAX_DAYS_BEFORE:
    raise ImproperlyConfigured(
        "COUNCIL_SHARING_DAYS_BEFORE exceeds COUNCIL_SHARING_MAX_DAYS_BEFORE."
    )
if COUNCIL_SHARING_DAYS_AFTER > COUNCIL_SHARING_MAX_DAYS_AFTER:
    raise ImproperlyConfigured("COUNCIL_SHARING_DAYS_AFTER exceeds COUNCIL_SHARING_MAX_DAYS_AFTER.")
