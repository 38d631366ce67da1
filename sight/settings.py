"""Jedyny plik ustawień Sight, sterowany zmiennymi środowiska (wartości domyślne działają lokalnie)."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit, urlunsplit

from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

from sight.devstack import running_stack

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str = "") -> str:
    """Zwraca zmienną środowiska albo wartość domyślną."""
    return os.environ.get(name, default)


def envbool(name: str, default: bool) -> bool:
    """Zmienna logiczna: 1/true/yes/on."""
    value = os.environ.get(name)
    return default if value is None else value.strip().lower() in {"1", "true", "yes", "on"}


def envint(name: str, default: int) -> int:
    """Zmienna całkowita."""
    return int(os.environ.get(name, default))


def envlist(name: str, default: str) -> list[str]:
    """Lista rozdzielona przecinkami."""
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


def database_from_url(url: str) -> dict[str, object]:
    """Zamienia postgresql://user:pass@host:port/name?host=/gniazdo na słownik DATABASES."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    host = query.get("host", [parts.hostname or ""])[0]
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(parts.path.lstrip("/")) or "postgres",
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": host,
        "PORT": str(parts.port or ""),
        "CONN_MAX_AGE": envint("DB_CONN_MAX_AGE", 0),
        "OPTIONS": {"connect_timeout": 5},
        "TEST": {"NAME": env("SIGHT_TEST_DB_NAME") or None},
    }


def redis_db_url(url: str, db: int) -> str:
    """Ten sam serwer Redis, inna baza (RQ i kanały osobno od grafów FalkorDB w bazie 0)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{db}", parts.query, ""))


DEBUG = envbool("DJANGO_DEBUG", True)
SECRET_KEY = env("DJANGO_SECRET_KEY", "dev-only-insecure-key-change-me-0123456789-abcdefghijklmnopqrstuvwxyz")
ALLOWED_HOSTS = envlist("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = envlist("DJANGO_CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django_htmx",
    "ninja",
    "django_rq",
    "channels",
    "axes",
    "sight",
    "personas",
    "focus_groups",
    "rag",
    "surveys",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "sight.middleware.htmx_login_middleware",
    # Ostatni, jak zaleca django-axes: zamienia oznaczone żądanie zablokowanego logowania na odpowiedź 429.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "sight.urls"
ASGI_APPLICATION = "sight.asgi.application"
WSGI_APPLICATION = None

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
                "sight.screens.site_context",
            ],
        },
    },
]

# `python manage.py …` w drugim terminalu obok `make run`: gdy środowisko nie wskazuje żadnej usługi, adresy z pliku
# stanu działającego `make run` (`.data/run/services.json`).
_stack = running_stack()
_database_url = env("DATABASE_URL", _stack.get("DATABASE_URL", ""))
# Bez bazy w środowisku i bez `make run` zostaje domyślny lokalny PostgreSQL; manage.py podpowie, gdy go nie ma.
SIGHT_DATABASE_CONFIGURED = bool(_database_url)
DATABASES = {"default": database_from_url(_database_url or "postgresql://postgres@127.0.0.1:5432/sight")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "sight.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "projects:list"
LOGOUT_REDIRECT_URL = "login"

# Ochrona konta (sight/accounts.py). django-axes liczy nieudane logowania (także do panelu admina) osobno dla konta
# i dla adresu klienta (REMOTE_ADDR; za proxy z DJANGO_BEHIND_PROXY ostatni wpis X-Forwarded-For) i po
# AXES_FAILURE_LIMIT blokuje na AXES_COOLOFF_TIME; jego backend musi być pierwszy. Tokeny API nie przechodzą przez
# authenticate(), więc ich nie dotyczy.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = envint("SIGHT_LOGIN_FAILURE_LIMIT", 10)
AXES_COOLOFF_TIME = timedelta(minutes=envint("SIGHT_LOGIN_LOCKOUT_MINUTES", 30))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_USERNAME_FORM_FIELD = "username"  # AuthenticationForm (strona i admin) wysyła e-mail w polu `username`
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "sight.accounts.lockout_response"
AXES_CLIENT_IP_CALLABLE = "sight.accounts.client_ip"
SIGHT_BEHIND_PROXY = envbool("DJANGO_BEHIND_PROXY", False)
# E-maile resetu hasła na godzinę: na adres e-mail i na adres klienta (formularz odpowiada zawsze tak samo).
SIGHT_PASSWORD_RESET_PER_EMAIL = envint("SIGHT_PASSWORD_RESET_PER_EMAIL", 3)
SIGHT_PASSWORD_RESET_PER_IP = envint("SIGHT_PASSWORD_RESET_PER_IP", 20)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Redis: bazy 1 (RQ), 2 (kanały), 3 (cache odpowiedzi LLM); grafy FalkorDB zostają w bazie 0.
REDIS_URL = env("REDIS_URL", _stack.get("REDIS_URL", "redis://127.0.0.1:6379"))
RQ_REDIS_URL = redis_db_url(REDIS_URL, envint("RQ_REDIS_DB", 1))
CHANNELS_REDIS_URL = redis_db_url(REDIS_URL, envint("CHANNELS_REDIS_DB", 2))
CACHE_REDIS_URL = redis_db_url(REDIS_URL, envint("CACHE_REDIS_DB", 3))

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": CACHE_REDIS_URL,
        "KEY_PREFIX": env("CACHE_KEY_PREFIX", "sight"),
    }
}
# Warstwa kanałów czeka na wiadomość BZPOPMIN-em przez 5 s (channels-redis `brpop_timeout`), a klient redis-py domyślnie
# przerywa odczyt gniazda po 5 s: cichy konsument ginął z TimeoutError co ~6 s. Odczyt gniazda musi trwać dłużej niż
# blokujące polecenie; martwe połączenie wykrywają keepalive TCP i PING przed poleceniem po dłuższej ciszy.
CHANNELS_SOCKET_TIMEOUT = envint("CHANNELS_SOCKET_TIMEOUT", 30)
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            "hosts": [
                {
                    "address": CHANNELS_REDIS_URL,
                    "socket_timeout": CHANNELS_SOCKET_TIMEOUT,
                    "socket_connect_timeout": 5,
                    "socket_keepalive": True,
                    "health_check_interval": 30,
                    # Bez CLIENT SETINFO: redis-py czytałby przy każdym nowym połączeniu metadane pakietu z dysku
                    # (importlib.metadata, ~5 ms CPU), a warstwa kanałów otwiera połączenia w każdej pętli zadania.
                    "driver_info": None,
                }
            ],
            "prefix": env("CHANNELS_PREFIX", "sight"),
        },
    }
}
# Worker wczytuje klientów dostawców LLM przed rozwidleniem zadań (sight/worker.py).
RQ = {"WORKER_CLASS": "sight.worker.Worker"}
RQ_QUEUES = {
    "default": {"URL": RQ_REDIS_URL, "DEFAULT_TIMEOUT": envint("RQ_DEFAULT_TIMEOUT", 3600)},
    "llm": {"URL": RQ_REDIS_URL, "DEFAULT_TIMEOUT": envint("RQ_LLM_TIMEOUT", 3 * 3600)},
}
# Zadanie uznajemy za osierocone, gdy jego heartbeat w PostgreSQL jest starszy niż tyle sekund.
SIGHT_JOB_STALE_SECONDS = envint("SIGHT_JOB_STALE_SECONDS", 60)
SIGHT_JOB_HEARTBEAT_SECONDS = envint("SIGHT_JOB_HEARTBEAT_SECONDS", 10)
SIGHT_JOB_MAX_ATTEMPTS = envint("SIGHT_JOB_MAX_ATTEMPTS", 5)

# Graf: FalkorDB (wbudowany, domyślny) albo Neo4j 5 (produkcja).
GRAPH_BACKEND = env("GRAPH_BACKEND", "neo4j" if env("NEO4J_URI") else "falkordb")
FALKORDB_URL = env("FALKORDB_URL", _stack.get("FALKORDB_URL", REDIS_URL))
GRAPH_NAME = env("GRAPH_NAME", "sight")
NEO4J_URI = env("NEO4J_URI")
NEO4J_USER = env("NEO4J_USER", "neo4j")
NEO4J_PASSWORD = env("NEO4J_PASSWORD")
NEO4J_DATABASE = env("NEO4J_DATABASE", "neo4j")

# LLM: dostawca z env (google gdy jest GOOGLE_API_KEY, inaczej offline); role i modele w config/models.yaml.
GOOGLE_API_KEY = env("GOOGLE_API_KEY")
SIGHT_LLM_PROVIDER = env("SIGHT_LLM_PROVIDER", "google" if GOOGLE_API_KEY else "offline")
SIGHT_LLM_BASE_URL = env("SIGHT_LLM_BASE_URL")
SIGHT_LLM_API_KEY = env("SIGHT_LLM_API_KEY", "not-needed")
SIGHT_LLM_MODEL = env("SIGHT_LLM_MODEL")
SIGHT_OFFLINE_LATENCY_MS = envint("SIGHT_OFFLINE_LATENCY_MS", 0)
SIGHT_LLM_CACHE_TTL = envint("SIGHT_LLM_CACHE_TTL", 30 * 24 * 3600)
SIGHT_CONFIG_DIR = Path(env("SIGHT_CONFIG_DIR", str(BASE_DIR / "config")))

LANGUAGE_CODE = env("DJANGO_LANGUAGE_CODE", "pl")
LANGUAGES = [("pl", _("Polish")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env("DJANGO_TIME_ZONE", "Europe/Warsaw")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG
MEDIA_ROOT = Path(env("SIGHT_MEDIA_ROOT", str(BASE_DIR / ".data" / "media")))

# Poczta: w rozwoju konsola; w produkcji SMTP z EMAIL_HOST/EMAIL_PORT/EMAIL_USER/EMAIL_PASSWORD.
_smtp = {
    "host": env("EMAIL_HOST"),
    "port": envint("EMAIL_PORT", 587),
    "username": env("EMAIL_USER"),
    "password": env("EMAIL_PASSWORD"),
    "use_tls": envbool("EMAIL_USE_TLS", True),
}
MAILERS = {
    "default": {
        "BACKEND": env(
            "DJANGO_EMAIL_BACKEND",
            "django.core.mail.backends.smtp.EmailBackend"
            if env("EMAIL_HOST")
            else "django.core.mail.backends.console.EmailBackend",
        ),
        "OPTIONS": _smtp if env("EMAIL_HOST") else {},
    }
}
DEFAULT_FROM_EMAIL = env("DJANGO_DEFAULT_FROM_EMAIL", "sight@localhost")

NINJA_PAGINATION_PER_PAGE = 25
NINJA_MAX_PER_PAGE_SIZE = 100  # górna granica `?page_size=` (sight.pagination.Pages zwraca 422 powyżej)

# Produkcja: bezpieczne ciasteczka i HSTS, gdy DEBUG jest wyłączone.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if envbool("DJANGO_BEHIND_PROXY", False) else None
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = not DEBUG
SECURE_SSL_REDIRECT = envbool("DJANGO_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = envint("DJANGO_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = envbool("DJANGO_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Skrypty tylko z własnych plików (htmx z pakietu django-htmx); style z atrybutów są dozwolone (htmx wstrzykuje style
# wskaźników).
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}
if not DEBUG:
    # Prefiks __Host-: ciasteczko tylko przez HTTPS, bez domeny, dla ścieżki / (nie da się go podstawić z subdomeny).
    SESSION_COOKIE_NAME, CSRF_COOKIE_NAME = "__Host-sessionid", "__Host-csrftoken"
X_FRAME_OPTIONS = "DENY"
DATA_UPLOAD_MAX_MEMORY_SIZE = envint("SIGHT_MAX_UPLOAD_BYTES", 50 * 1024 * 1024)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {"httpx": {"level": "WARNING"}, "httpx2": {"level": "WARNING"}, "neo4j": {"level": "WARNING"}},
}
