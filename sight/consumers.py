"""Konsument websocketu postępu zadania: przeglądarka dostaje fragment HTML, klient API — JSON."""

from __future__ import annotations

import abc
import asyncio
import contextlib
from importlib import import_module
from types import SimpleNamespace
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.contrib import auth
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation.trans_real import parse_accept_lang_header

from sight import live
from sight.models import Job

CLOSE_NOT_FOUND = 4404
# Przeglądarka bez sesji (wygasła): zamknięcie po `accept`, bo odmowa przed nim dociera do strony jako 1006, na który
# rozszerzenie ws htmx łączy się w kółko; na 4401 strona się przeładowuje i trafia na logowanie z `next` (static/js).
CLOSE_UNAUTHENTICATED = 4401


def session_still_valid(scope: dict[str, Any]) -> bool:
    """Czy sesja przeglądarki z handshake'u nadal loguje tego samego użytkownika (nie wygasła, nie wylogowano jej,
    hasło się nie zmieniło) — odczyt na świeżo z magazynu sesji, jak przy każdym żądaniu HTTP."""
    store = import_module(settings.SESSION_ENGINE).SessionStore(scope["session"].session_key)
    user = auth.get_user(SimpleNamespace(session=store))
    return user.is_authenticated and user.pk == scope["user"].pk


class LiveConsumer(AsyncJsonWebsocketConsumer, abc.ABC):
    """Wspólna podstawa: dostęp sprawdzany przed `accept`, stan nadrabiany z PostgreSQL po połączeniu."""

    group: str = ""
    # Co tyle sekund otwarty websocket przeglądarki sprawdza sesję (wygasła, wylogowana w innej karcie → 4401).
    session_check_seconds: float = 60
    session_watch: asyncio.Task[None] | None = None

    @property
    def wants_json(self) -> bool:
        """Klient API (token Bearer) dostaje JSON; przeglądarka — HTML do podmiany przez htmx."""
        return self.scope.get("auth") == "bearer"

    async def connect(self) -> None:
        """Odmawia przed `accept`, gdy obiekt nie istnieje albo jest cudzy; przeglądarce bez sesji zamyka z 4401."""
        user = self.scope.get("user")
        if not self.wants_json and (user is None or not user.is_authenticated):
            await self.accept()
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        if not await self.authorize():
            await self.close(code=CLOSE_NOT_FOUND)
            return
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        if not self.wants_json:
            self.session_watch = asyncio.create_task(self.watch_session())
        await self.catch_up()

    async def watch_session(self) -> None:
        """Zamyka połączenie kodem 4401, gdy sesja, z którą się połączono, przestaje być ważna."""
        while True:
            await asyncio.sleep(self.session_check_seconds)
            if not await database_sync_to_async(session_still_valid)(self.scope):
                await self.close(code=CLOSE_UNAUTHENTICATED)
                return

    async def disconnect(self, code: int) -> None:
        """Opuszcza grupę i kończy pilnowanie sesji."""
        if self.session_watch is not None:
            self.session_watch.cancel()
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    @abc.abstractmethod
    async def authorize(self) -> bool:
        """Ustawia `self.group`; zwraca False, gdy użytkownik nie ma dostępu."""

    @abc.abstractmethod
    async def catch_up(self) -> None:
        """Wysyła stan z PostgreSQL (po połączeniu i na żądanie klienta)."""

    @property
    def language(self) -> str:
        """Język fragmentów jak w LocaleMiddleware: ciasteczko przełącznika, potem Accept-Language, potem domyślny."""
        cookie = self.scope.get("cookies", {}).get(settings.LANGUAGE_COOKIE_NAME, "")
        if cookie in dict(settings.LANGUAGES):
            return cookie
        header = dict(self.scope.get("headers", [])).get(b"accept-language", b"").decode("latin1")
        for code, _ in parse_accept_lang_header(header):
            with contextlib.suppress(LookupError):
                return translation.get_supported_language_variant(code)
        return settings.LANGUAGE_CODE

    def render(self, template: str, context: dict[str, Any]) -> str:
        """Fragment szablonu w języku widza (ten sam, który renderuje strona)."""
        with translation.override(self.language):
            return render_to_string(template, context)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        """Klient może poprosić o ponowne nadrobienie: {"type": "catch_up"}."""
        if isinstance(content, dict) and content.get("type") == "catch_up":
            await self.catch_up()


class JobConsumer(LiveConsumer):
    """`/ws/jobs/<id>/`: postęp jednego zadania."""

    async def authorize(self) -> bool:
        """Zadanie musi należeć do użytkownika."""
        self.job_id = self.scope["url_route"]["kwargs"]["job_id"]
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            return False
        exists = await database_sync_to_async(Job.objects.for_user(user).filter(pk=self.job_id).exists)()
        if exists:
            self.group = live.job_group(self.job_id)
        return exists

    async def catch_up(self) -> None:
        """Aktualny stan zadania z bazy."""
        job = await database_sync_to_async(Job.objects.get)(pk=self.job_id)
        await self.send_job(job.as_dict())
        for payload in await database_sync_to_async(live.catch_up_events)(job):
            await self.live_event({"payload": payload})

    async def live_event(self, event: dict[str, Any]) -> None:
        """Zdarzenie z grupy: nowy stan zadania albo inny obiekt (np. nowa persona) z fragmentami dla przeglądarki."""
        payload = event["payload"]
        if payload.get("type") == "job":
            await self.send_job(payload["job"])
        elif self.wants_json:
            await self.send_json({k: v for k, v in payload.items() if k != "fragments"})
        else:
            for fragment in payload.get("fragments", []):
                await self.send(text_data=self.render(fragment["template"], fragment["context"]))

    async def send_job(self, job: dict[str, Any]) -> None:
        """JSON dla API, fragment `#job_progress` dla przeglądarki (ten sam, który renderuje strona); komunikat
        postępu w języku widza, nie workera, który stan opublikował.
        """
        with translation.override(self.language):
            job = {**job, "message": Job.render_message(job.get("message_id", ""), job.get("message_params"))}
        if self.wants_json:
            await self.send_json({"type": "job", "job": job})
        else:
            await self.send(text_data=self.render("sight/job_progress.html#job_progress", {"job": job, "oob": True}))
