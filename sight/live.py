"""Powiadomienia na żywo przez warstwę kanałów (Redis): tylko sygnał, źródłem prawdy jest PostgreSQL."""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Callable
from typing import Any

from channels.layers import get_channel_layer

log = logging.getLogger(__name__)
PUBLISH_TIMEOUT_SECONDS = 10

_publisher: tuple[int, asyncio.AbstractEventLoop] | None = None
_publisher_lock = threading.Lock()


def job_group(job_id: object) -> str:
    """Nazwa grupy kanałów dla postępu zadania."""
    return f"job-{job_id}"


# Nadrabianie obiektów zadania po połączeniu websocketu: rodzaj zadania → zdarzenia z aktualnym stanem jego obiektów
# (np. wiersz dokumentu bazy wiedzy). Zadanie mogło skończyć się między wyrenderowaniem strony a połączeniem.
_catch_ups: dict[str, Callable[[Any], list[dict[str, Any]]]] = {}


def job_catch_up(kind: str) -> Callable[[Callable[[Any], list[dict[str, Any]]]], Callable[[Any], list[dict[str, Any]]]]:
    """Rejestruje funkcję (zadanie → zdarzenia jak w `publish`), którą websocket zadania wysyła po połączeniu."""

    def register(func: Callable[[Any], list[dict[str, Any]]]) -> Callable[[Any], list[dict[str, Any]]]:
        _catch_ups[kind] = func
        return func

    return register


def catch_up_events(job: Any) -> list[dict[str, Any]]:
    """Zdarzenia nadrabiające obiekty zadania (pusta lista, gdy rodzaj zadania ich nie ma)."""
    func = _catch_ups.get(job.kind)
    return func(job) if func is not None else []


async def apublish(group: str, payload: dict[str, Any]) -> bool:
    """`publish` z kodu asynchronicznego: wprost do warstwy kanałów, bez przeskoku do wątku i z powrotem."""
    layer = get_channel_layer()
    if layer is None:
        return False
    try:
        await layer.group_send(group, {"type": "live.event", "payload": payload})
    except Exception:  # noqa: BLE001 - utrata powiadomienia nie gubi danych
        log.warning("live publish to %s failed", group, exc_info=True)
        return False
    return True


def publish(group: str, payload: dict[str, Any]) -> bool:
    """Wysyła zdarzenie do grupy z kodu synchronicznego; błąd Redisa nie przerywa pracy (klient nadrobi z bazy)."""
    layer = get_channel_layer()
    if layer is None:
        return False
    try:
        send = layer.group_send(group, {"type": "live.event", "payload": payload})
        asyncio.run_coroutine_threadsafe(send, _publisher_loop()).result(PUBLISH_TIMEOUT_SECONDS)
    except Exception:  # noqa: BLE001 - utrata powiadomienia nie gubi danych
        log.warning("live publish to %s failed", group, exc_info=True)
        return False
    return True


def _publisher_loop() -> asyncio.AbstractEventLoop:
    """Pętla zdarzeń procesu dla powiadomień z kodu synchronicznego, w wątku w tle.

    `async_to_sync` tworzyłby pętlę na każde wywołanie, a warstwa kanałów trzyma połączenia z Redisem per pętla: każde
    powiadomienie otwierałoby nowe połączenie (~5 ms). Proces potomny (worker RQ po `fork`) nie ma wątku rodzica, więc
    pętla jest przypisana do pid.
    """
    global _publisher
    with _publisher_lock:
        if _publisher is None or _publisher[0] != os.getpid():
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="sight-live-publisher", daemon=True).start()
            _publisher = (os.getpid(), loop)
        return _publisher[1]
