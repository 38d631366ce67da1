"""Websocket grupy fokusowej: każde zdarzenie dokładnie raz, w kolejności `seq`, z nadrabianiem z PostgreSQL."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async

from focus_groups.models import FocusGroup, FocusGroupEvent
from sight.consumers import LiveConsumer

CATCH_UP_BATCH = 500


class FocusGroupConsumer(LiveConsumer):
    """`/ws/focus-groups/<id>/?after=SEQ`: zdarzenia po `after`, potem na żywo; luka w numeracji → nadrobienie z
    bazy.
    """

    async def authorize(self) -> bool:
        """Grupa musi należeć do projektu użytkownika."""
        self.fg_id = self.scope["url_route"]["kwargs"]["focus_group_id"]
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            return False
        query = parse_qs(self.scope.get("query_string", b"").decode())
        try:
            self.last_seq = max(0, int(query.get("after", ["0"])[0]))
        except ValueError:
            self.last_seq = 0
        fg = await database_sync_to_async(FocusGroup.objects.for_user(user).filter(pk=self.fg_id).first)()
        if fg is not None:
            self.group = fg.group_name
        return fg is not None

    async def catch_up(self) -> None:
        """Wszystkie zdarzenia po ostatnio wysłanym `seq` (partiami), potem bieżący status."""
        while True:
            batch = await database_sync_to_async(
                lambda: [
                    e.as_dict()
                    for e in FocusGroupEvent.objects.filter(focus_group_id=self.fg_id, seq__gt=self.last_seq).order_by(
                        "seq"
                    )[:CATCH_UP_BATCH]
                ]
            )()
            for event in batch:
                await self.send_event(event)
            if len(batch) < CATCH_UP_BATCH:
                break
        fg = await database_sync_to_async(FocusGroup.objects.get)(pk=self.fg_id)
        await self.send_status(fg.live_state())

    async def live_event(self, event: dict[str, Any]) -> None:
        """Zdarzenie z grupy kanałów: duplikat pomijamy, lukę nadrabiamy z PostgreSQL."""
        payload = event["payload"]
        if payload.get("type") == "status":
            await self.send_status(payload["focus_group"])
            return
        # Jedno zdarzenie albo partia zapisana razem (`events`, w kolejności numerów).
        events = {"event": [payload.get("event")], "events": payload.get("events")}.get(payload.get("type")) or []
        for item in events:
            seq = item["seq"]
            if seq <= self.last_seq:
                continue
            if seq > self.last_seq + 1:
                await self.catch_up()
                return
            await self.send_event(item)

    async def send_event(self, event: dict[str, Any]) -> None:
        """JSON dla API, fragment `#event_live` strony dla przeglądarki."""
        self.last_seq = event["seq"]
        if self.wants_json:
            await self.send_json({"type": "event", "event": event})
        else:
            await self.send(text_data=self.render("focus_groups/detail.html#event_live", {"e": event}))

    async def send_status(self, state: dict[str, Any]) -> None:
        """Status przebiegu (JSON albo fragment `#status_live`)."""
        if self.wants_json:
            await self.send_json({"type": "status", "focus_group": state})
        else:
            await self.send(text_data=self.render("focus_groups/detail.html#status_live", {"state": state}))
