"""Uwierzytelnianie API i websocketów: sesja przeglądarki (z CSRF) albo `Authorization: Bearer <token>`."""

from __future__ import annotations

from typing import Any

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.security.websocket import AllowedHostsOriginValidator
from django.http import HttpRequest
from ninja.security import HttpBearer, SessionAuth

from sight.models import ApiToken, User


class BearerToken(HttpBearer):
    """Token API w nagłówku Authorization (przechowywany jako skrót)."""

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        """Zwraca użytkownika tokenu i ustawia go na żądaniu."""
        user = ApiToken.authenticate(token)
        if user is not None:
            request.user = user
        return user


class BrowserSession(SessionAuth):
    """Sesja przeglądarki; ninja wymusza wtedy CSRF na zmianach stanu."""

    def _get_key(self, request: HttpRequest) -> str | None:
        # CSRF chroni zalogowaną sesję; bez niej nie ma czego chronić, więc żądanie bez poświadczeń dostaje 401
        # (z WWW-Authenticate), a nie mylące 403 „CSRF check Failed”.
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        return super()._get_key(request)

    def authenticate(self, request: HttpRequest, key: str | None) -> User | None:
        """Zalogowany i aktywny użytkownik sesji."""
        user = getattr(request, "user", None)
        return user if user is not None and user.is_authenticated and user.is_active else None


api_auth = [BearerToken(), BrowserSession()]


def bearer_from_scope(scope: dict[str, Any]) -> str | None:
    """Token Bearer z nagłówka handshake'u websocketu (nigdy z adresu URL)."""
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            scheme, _, token = value.decode("latin1").partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
            return ""
    return None


class WebsocketAuth:
    """Websocket: z nagłówkiem Bearer — token (bez sprawdzania Origin, bo przeglądarka nie ustawi tego nagłówka);
    bez niego — sesja przeglądarki i obowiązkowo dozwolony Origin."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.browser = AllowedHostsOriginValidator(AuthMiddlewareStack(inner))

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        token = bearer_from_scope(scope)
        if token is None:
            return await self.browser(scope, receive, send)
        from django.contrib.auth.models import AnonymousUser

        user = await database_sync_to_async(ApiToken.authenticate)(token) if token else None
        scope = {**scope, "user": user or AnonymousUser(), "auth": "bearer"}
        return await self.inner(scope, receive, send)
