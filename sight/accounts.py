"""Ochrona konta: blokada logowania po nieudanych próbach (django-axes) i limit e-maili resetu hasła."""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import ngettext

log = logging.getLogger(__name__)


def client_ip(request: HttpRequest) -> str | None:
    """Adres klienta do liczenia prób. Za jednym zaufanym proxy (DJANGO_BEHIND_PROXY) daphne widzi tylko adres proxy,
    więc liczy się ostatni wpis X-Forwarded-For — dopisany przez to proxy; wcześniejsze mógł podrobić klient."""
    if settings.SIGHT_BEHIND_PROXY:
        last = request.META.get("HTTP_X_FORWARDED_FOR", "").rsplit(",", 1)[-1].strip()
        if last:
            return last
    return request.META.get("REMOTE_ADDR") or None


def lockout_message() -> str:
    """Komunikat dla zablokowanego logowania (czas blokady z ustawień, w języku widza)."""
    minutes = max(1, int(settings.AXES_COOLOFF_TIME.total_seconds() // 60))
    return ngettext(
        "Too many failed login attempts. Logging in is blocked for %(minutes)d minute; try again later.",
        "Too many failed login attempts. Logging in is blocked for %(minutes)d minutes; try again later.",
        minutes,
    ) % {"minutes": minutes}


def lockout_response(request: HttpRequest, *args: Any) -> HttpResponse:
    """Odpowiedź django-axes na zablokowane logowanie: strona logowania z komunikatem, status 429.

    Pozostałe argumenty (pierwotna odpowiedź, dane logowania) są pomijane: gałąź asynchroniczna pośrednika axes
    podaje je w innej kolejności niż synchroniczna.
    """
    form = AuthenticationForm(request, initial={"username": request.POST.get("username", "")})
    context = {"form": form, "lockout": lockout_message(), "next": request.POST.get("next", "")}
    return render(request, "accounts/login.html", context, status=429)


def _count(key: str, window: int) -> int:
    """Licznik w cache (Redis) żyjący `window` sekund od pierwszego trafienia."""
    cache.add(key, 0, timeout=window)
    try:
        return cache.incr(key)
    except ValueError:  # klucz wygasł między add a incr
        cache.set(key, 1, timeout=window)
        return 1


def allow_password_reset(email: str, request: HttpRequest | None) -> bool:
    """Czy wysłać e-mail resetu: limit na adres e-mail i na adres klienta w oknie godziny.

    Liczymy każde żądanie, także dla adresu bez konta, więc zachowanie nie zdradza, czy konto istnieje.
    """
    window = 3600
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()
    allowed = _count(f"password-reset:email:{digest}", window) <= settings.SIGHT_PASSWORD_RESET_PER_EMAIL
    ip = client_ip(request) if request is not None else None
    if ip:
        allowed &= _count(f"password-reset:ip:{ip}", window) <= settings.SIGHT_PASSWORD_RESET_PER_IP
    if not allowed:
        log.warning("password reset e-mail not sent: hourly limit reached")
    return allowed
