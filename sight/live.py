"""Powiadomienia na żywo przez warstwę kanałów (Redis): tylko sygnał, źródłem prawdy jest PostgreSQL."""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

log = logging.getLogger(__name__)


def job_group(job_id: object) -> str:
    """Nazwa grupy kanałów dla postępu zadania."""
    return f"job-{job_id}"


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
    """Wysyła zdarzenie do grupy; błąd Redisa nie przerywa pracy (klient nadrobi z PostgreSQL)."""
    layer = get_channel_layer()
    if layer is None:
        return False
    try:
        async_to_sync(layer.group_send)(group, {"type": "live.event", "payload": payload})
    except Exception:  # noqa: BLE001 - utrata powiadomienia nie gubi danych
        log.warning("live publish to %s failed", group, exc_info=True)
        return False
    return True
