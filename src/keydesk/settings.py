"""Django settings, read from the environment once (see the Environment table in the README)."""

import os
import secrets
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _env_count(name: str, default: int) -> int:
    raw = _env(name, str(default))
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be a whole number, not {raw!r}") from None
    if value < 0:
        raise ValueError(f"{name} must be 0 or more")
    return value


def _read_or_create_secret_key(data_dir: Path) -> str:
    """Return the key kept in the data dir, creating it on first run.

    O_EXCL makes the first of several processes starting together (web workers and the
    task worker) the only one to write the file; the others read what it wrote.
    """
    path = data_dir / "secret_key"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = path.read_text().strip()
        if key:
            return key
        raise RuntimeError(f"{path} is empty; delete it or set KEYDESK_SECRET_KEY") from None
    key = secrets.token_urlsafe(50)
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    return key


DATA_DIR = Path(_env("KEYDESK_DATA_DIR", "./var")).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)

SECRET_KEY = _env("KEYDESK_SECRET_KEY") or _read_or_create_secret_key(DATA_DIR)
DEBUG = _env("KEYDESK_DEBUG", "") == "1"

BASE_DOMAIN = _env("KEYDESK_BASE_DOMAIN", "localhost").lower().rstrip(".")
DEFAULT_TENANT = _env("KEYDESK_DEFAULT_TENANT")
TRUSTED_PROXIES = [
    c.strip() for c in (_env("KEYDESK_TRUSTED_PROXIES", "") or "").split(",") if c.strip()
]
SMTP_URL = _env("KEYDESK_SMTP_URL")
REDIS_URL = _env("KEYDESK_REDIS_URL")
MAIL_FROM = _env("KEYDESK_MAIL_FROM")
# Text messages: "log" keeps them in the outbox; "webhook" POSTs them, signed, to a gateway.
SMS_BACKEND = (_env("KEYDESK_SMS_BACKEND", "log") or "log").lower()
SMS_WEBHOOK_URL = _env("KEYDESK_SMS_WEBHOOK_URL")
SMS_WEBHOOK_SECRET = _env("KEYDESK_SMS_WEBHOOK_SECRET")
SMS_WEBHOOK_TIMEOUT = 10
if SMS_BACKEND not in ("log", "webhook"):
    raise ValueError("KEYDESK_SMS_BACKEND must be log or webhook")
if SMS_BACKEND == "webhook" and not (
    (SMS_WEBHOOK_URL or "").startswith(("http://", "https://"))
    and len(SMS_WEBHOOK_SECRET or "") >= 16
):
    raise ValueError(
        "KEYDESK_SMS_BACKEND=webhook needs KEYDESK_SMS_WEBHOOK_URL (http:// or https://) "
        "and KEYDESK_SMS_WEBHOOK_SECRET (at least 16 characters)"
    )


# A new tenant's creation limits (tenants/limits.py): for its first days, at most this many
# new users and tickets per UTC day. 0 days: no tenant is ever limited.
NEW_ACCOUNT_DAYS = _env_count("KEYDESK_NEW_ACCOUNT_DAYS", 30)
NEW_ACCOUNT_USERS_PER_DAY = _env_count("KEYDESK_NEW_ACCOUNT_USERS_PER_DAY", 10)
NEW_ACCOUNT_TICKETS_PER_DAY = _env_count("KEYDESK_NEW_ACCOUNT_TICKETS_PER_DAY", 50)


def _listen_address(value: str) -> tuple[str, int]:
    """`host:port` or `[v6-host]:port` of the inbound mail listener."""
    host, sep, port = value.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"KEYDESK_SMTP_LISTEN must look like 127.0.0.1:2525, not {value!r}")
    return host, int(port)


# Inbound mail: where the SMTP listener accepts mail, and the largest message it takes,
# attachments included (a bigger one is refused with 552 at DATA).
SMTP_LISTEN_HOST, SMTP_LISTEN_PORT = _listen_address(_env("KEYDESK_SMTP_LISTEN", "127.0.0.1:2525"))
INBOUND_MAX_MB = _env_count("KEYDESK_INBOUND_MAX_MB", 25)
if INBOUND_MAX_MB < 1:
    raise ValueError("KEYDESK_INBOUND_MAX_MB must be 1 or more")

# How links in mail reach a tenant when no request is at hand (e.g. mail sent by the worker).
PUBLIC_SCHEME = _env("KEYDESK_PUBLIC_SCHEME", "http" if BASE_DOMAIN == "localhost" else "https")
PUBLIC_PORT_SUFFIX = f":{_env('KEYDESK_PORT', '8000')}" if BASE_DOMAIN == "localhost" else ""

# Hosts are checked by the tenant middleware, which knows every tenant and custom domain;
# an unknown host gets a 404 there.
ALLOWED_HOSTS = ["*"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_tasks",
    "django_tasks_db",
    "keydesk.core",
    "keydesk.tenants",
    "keydesk.accounts",
    "keydesk.eventlog",
    "keydesk.tickets",
    "keydesk.mail",
    "keydesk.sms",
    "keydesk.mfa",
    "keydesk.tap",
    "keydesk.access",
    "keydesk.api",
    "keydesk.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "keydesk.web.middleware.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "keydesk.tenants.middleware.TenantMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "keydesk.tenants.middleware.TenantUserMiddleware",
    "keydesk.accounts.middleware.SessionLifetimeMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "keydesk.urls"
WSGI_APPLICATION = "keydesk.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "keydesk.web.context_processors.navigation",
            ],
        },
    },
]

# Form fields and widgets render with Jinja2 (see keydesk.web.renderers).
FORM_RENDERER = "keydesk.web.renderers.FormRenderer"

DATABASE_URL = _env("KEYDESK_DATABASE_URL", f"sqlite:///{DATA_DIR / 'keydesk.sqlite3'}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Django's backend, with transactions that poll for the write lock (see its docstring).
    DATABASES["default"]["ENGINE"] = "keydesk.core.sqlite"
    # A file, not memory, so tests see the locking the server sees (threads, live server).
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / f"test-keydesk-{os.getpid()}.sqlite3")}
    DATABASES["default"]["OPTIONS"] = {
        # IMMEDIATE takes the write lock when a transaction starts, so two writers queue
        # instead of failing on lock upgrade; WAL lets readers go on meanwhile.
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
        ),
    }
else:
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "keydesk_cache",
        }
    }

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "keydesk.accounts.backends.TenantUserBackend",
    "keydesk.accounts.backends.OperatorBackend",
]
PASSWORD_HASHERS = [
    "keydesk.accounts.hashers.KeydeskArgon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
LOGIN_URL = "/login"

SESSION_ENGINE = "keydesk.accounts.session_store"
SESSION_COOKIE_AGE = 12 * 60 * 60
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_FAILURE_VIEW = "keydesk.web.views.csrf_failure"

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Django's SecurityMiddleware sends HSTS only on requests that arrived over TLS.
SECURE_HSTS_SECONDS = 31_536_000
X_FRAME_OPTIONS = "DENY"

# Descriptions and comments may be up to 1 MB; a request body larger than this is refused.
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Uploads (ticket attachments); never served directly, only by views that check who may see them.
MEDIA_ROOT = DATA_DIR / "uploads"
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "keydesk": {"level": _env("KEYDESK_LOG_LEVEL", "INFO")},
        "django.tasks": {"level": "INFO"},
    },
}

# For platform operators' passwords only; tenant people follow their tenant's password policy.
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ("email", "name")},
    },
]


def _smtp_settings(url: str | None) -> dict:
    """EMAIL_* settings from `smtp://[user:pass@]host[:port][?starttls=1]` or `smtps://…`.

    A user name and password travel only inside TLS (smtps://, or ?starttls=1), unless the
    relay is on this machine; the server's certificate is checked against the system's CAs.
    """
    if not url:
        return {}
    import ipaddress
    from urllib.parse import parse_qs, unquote, urlsplit

    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ValueError(
            "KEYDESK_SMTP_URL must look like smtp://host:port or smtps://user:pass@host"
        )
    options = parse_qs(parts.query, keep_blank_values=True)
    if set(options) - {"starttls"} or options.get("starttls", ["0"])[-1] not in ("0", "1"):
        raise ValueError("KEYDESK_SMTP_URL knows one option, ?starttls=1")
    secure = parts.scheme == "smtps"
    starttls = options.get("starttls", ["0"])[-1] == "1"
    if secure and starttls:
        raise ValueError("KEYDESK_SMTP_URL: smtps:// is TLS from the start; drop ?starttls=1")
    user, password = unquote(parts.username or ""), unquote(parts.password or "")
    try:
        loopback = parts.hostname == "localhost" or ipaddress.ip_address(parts.hostname).is_loopback
    except ValueError:
        loopback = False
    if (user or password) and not (secure or starttls or loopback):
        raise ValueError(
            "KEYDESK_SMTP_URL: a password is sent only over TLS; use smtps:// or add ?starttls=1"
        )
    return {
        "EMAIL_HOST": parts.hostname,
        "EMAIL_PORT": parts.port or (465 if secure else 25),
        "EMAIL_HOST_USER": user,
        "EMAIL_HOST_PASSWORD": password,
        "EMAIL_USE_SSL": secure,
        "EMAIL_USE_TLS": starttls,
    }


globals().update(_smtp_settings(SMTP_URL))
EMAIL_TIMEOUT = 15
