"""Pośrednicy Sight: żądanie htmx bez sesji przechodzi na stronę logowania zamiast wklejać ją w fragment."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import parse_qs, urlsplit

from asgiref.sync import iscoroutinefunction
from django.conf import settings
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponseBase
from django.shortcuts import resolve_url
from django.utils.decorators import sync_and_async_middleware
from django_htmx.http import HttpResponseClientRedirect

Handler = Callable[[HttpRequest], HttpResponseBase] | Callable[[HttpRequest], Awaitable[HttpResponseBase]]


def is_login_redirect(response: HttpResponseBase) -> bool:
    """Przekierowanie `login_required` na stronę logowania (z parametrem `next`)."""
    if response.status_code not in (301, 302, 303, 307, 308) or "Location" not in response:
        return False
    target = urlsplit(response["Location"])
    return target.path == resolve_url(settings.LOGIN_URL) and REDIRECT_FIELD_NAME in parse_qs(target.query)


def redirect_htmx_to_login(request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
    """htmx wykonałby przekierowanie sam i wkleił stronę logowania w cel; `HX-Redirect` przenosi całą stronę, a `next`
    wskazuje stronę, na której użytkownik był (nie adres fragmentu)."""
    if not getattr(request, "htmx", False) or not is_login_redirect(response):
        return response
    page = request.htmx.current_url_abs_path or request.get_full_path()
    return HttpResponseClientRedirect(redirect_to_login(page)["Location"])


@sync_and_async_middleware
def htmx_login_middleware(get_response: Handler) -> Handler:
    """Wygasła sesja w akcji htmx: `HX-Redirect` na logowanie z `next` tej strony (jedno miejsce dla wszystkich
    widoków)."""
    if iscoroutinefunction(get_response):

        async def middleware(request: HttpRequest) -> HttpResponseBase:
            return redirect_htmx_to_login(request, await get_response(request))

    else:

        def middleware(request: HttpRequest) -> HttpResponseBase:
            return redirect_htmx_to_login(request, get_response(request))

    return middleware
