"""Benchmark grup fokusowych (offline, 200 ms na wywołanie): wywiady 10×3, narzut na turę w dyskusji 6×3, doręczenie
websocketem do 20 widzów.
"""

from __future__ import annotations

import asyncio
import json
import time

from bench.common import django_world, emit, flush_redis, summary_ms

LATENCY_MS = 200


def _panel(project, n):  # noqa: ANN001, ANN202
    from personas.models import Persona

    return [
        Persona.objects.create(
            project=project,
            index=i,
            full_name=f"Uczestnik {i} Kowalski",
            gender="female",
            age=30 + i,
            extraversion=i / n,
            background_story="Historia. " * 20,
            values=["rodzina"],
            interests=["rower"],
            concerns=["ceny"],
        )
        for i in range(n)
    ]


def interviews(user, project) -> dict:  # noqa: ANN001
    """10 person × 3 pytania, każda odpowiada niezależnie (równolegle, limit roli)."""
    from focus_groups import discussion
    from focus_groups.setup import FocusGroupIn, create_focus_group
    from sight import jobs

    people = _panel(project, 10)
    fg = create_focus_group(
        project,
        FocusGroupIn(
            name="bench interviews",
            mode="interviews",
            questions=[{"text": f"Pytanie {i}?"} for i in range(3)],
            participants={"persona_ids": [p.id for p in people]},
        ),
    )
    job = discussion.start_run(fg, user=user)
    started = time.perf_counter()
    jobs.execute(str(job.id))
    elapsed = time.perf_counter() - started
    fg.refresh_from_db()
    return {
        "status": fg.status,
        "answers": fg.events.filter(kind="answer").count(),
        "elapsed_s": round(elapsed, 3),
        "sequential_s": 10 * 3 * LATENCY_MS / 1000,
        "target_s": 1.5,
        "ok": elapsed <= 1.5,
    }


def discussion_overhead(user, project) -> dict:  # noqa: ANN001
    """Dyskusja 6 person × 3 pytania; narzut na turę = zapis zdarzenia + publikacja (mierzone wokół każdego zapisu)."""
    from focus_groups import discussion
    from focus_groups.models import FocusGroup
    from focus_groups.setup import FocusGroupIn, create_focus_group
    from sight import jobs

    people = _panel(project, 6)
    fg = create_focus_group(
        project,
        FocusGroupIn(
            name="bench discussion",
            questions=[{"text": f"Pytanie {i}?"} for i in range(3)],
            turns_per_question=6,
            participants={"persona_ids": [p.id for p in people]},
        ),
    )
    timings: list[float] = []
    original_append, original_publish = FocusGroup.append_event, discussion.publish_event

    def timed_append(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        started = time.perf_counter()
        result = original_append(self, *args, **kwargs)
        timings.append(time.perf_counter() - started)
        return result

    def timed_publish(fg_, event):  # noqa: ANN001, ANN202
        started = time.perf_counter()
        original_publish(fg_, event)
        timings[-1] += time.perf_counter() - started

    FocusGroup.append_event, discussion.publish_event = timed_append, timed_publish
    try:
        job = discussion.start_run(fg, user=user)
        started = time.perf_counter()
        jobs.execute(str(job.id))
        elapsed = time.perf_counter() - started
    finally:
        FocusGroup.append_event, discussion.publish_event = original_append, original_publish
    fg.refresh_from_db()
    stats = summary_ms(timings)
    return {
        "status": fg.status,
        "events": fg.last_seq,
        "turns": fg.events.filter(kind="turn").count(),
        "elapsed_s": round(elapsed, 3),
        "event_write_and_publish": stats,
        "target_p95_ms": 20,
        "ok": stats["p95_ms"] <= 20,
    }


def websocket_fanout(user, project) -> dict:  # noqa: ANN001
    """20 klientów API na websockecie grupy; czas od zapisu+publikacji zdarzenia do odbioru u każdego widza."""
    from asgiref.sync import sync_to_async
    from channels.testing import WebsocketCommunicator

    from focus_groups import discussion
    from focus_groups.models import FocusGroup
    from sight.asgi import application
    from sight.models import ApiToken

    fg = FocusGroup.objects.create(project=project, name="bench ws", questions=[{"text": "Q?"}])
    _, raw = ApiToken.issue(user=user, name="bench-ws")
    headers = [(b"authorization", f"Bearer {raw}".encode())]

    async def scenario() -> list[float]:
        clients = [WebsocketCommunicator(application, f"/ws/focus-groups/{fg.id}/", headers=headers) for _ in range(20)]
        for c in clients:
            assert (await c.connect())[0]
            await c.receive_from()  # status po połączeniu
        delays: list[float] = []
        for i in range(30):
            sent = time.perf_counter()
            event, _ = await sync_to_async(fg.append_event)(
                "turn", key=f"bench:{i}", payload={"text": f"turn {i}"}, question_index=0
            )
            await sync_to_async(discussion.publish_event)(fg, event)
            for c in clients:
                message = json.loads(await c.receive_from(timeout=5))
                assert message["event"]["seq"] == event.seq
                delays.append(time.perf_counter() - sent)
        for c in clients:
            await c.disconnect()
        return delays

    stats = summary_ms(asyncio.run(scenario()))
    return {"subscribers": 20, "events": 30, "delivery": stats, "target_p95_ms": 100, "ok": stats["p95_ms"] <= 100}


def main() -> None:
    """Trzy pomiary, jeden JSON."""
    with django_world(
        SIGHT_LLM_PROVIDER="offline", SIGHT_OFFLINE_LATENCY_MS=str(LATENCY_MS), DJANGO_ALLOW_ASYNC_UNSAFE="true"
    ):
        from sight.demo import seed_demo

        flush_redis()
        user, project = seed_demo()
        result = {
            "benchmark": "focus_groups",
            "latency_ms": LATENCY_MS,
            "interviews_10x3": interviews(user, project),
            "discussion_6x3": discussion_overhead(user, project),
        }
        result["websocket_20_subscribers"] = websocket_fanout(user, project)
        result["ok"] = all(v["ok"] for v in result.values() if isinstance(v, dict))
        emit(result)


if __name__ == "__main__":
    main()
