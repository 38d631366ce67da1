"""Benchmark grup fokusowych (200 ms na wywołanie, offline i przez HTTP): wywiady 6×3, dyskusja 6×3 po 18 tur wobec
ścieżki krytycznej, doręczenie websocketem do 20 widzów.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from typing import Any

from bench.common import django_world, emit, flush_redis, http_provider, summary_ms

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


def _fan_out_path(calls: int, role: str) -> float:
    """Ścieżka krytyczna niezależnych wywołań: ⌈wywołania / współbieżność roli⌉ fal po LATENCY_MS."""
    import config

    return math.ceil(calls / config.load_models().role(role).concurrency) * LATENCY_MS / 1000


def _http_stats(server: Any) -> dict[str, int]:
    return server.stats() if server is not None else {}


def interviews(user, project, *, people: int = 6, questions: int = 3, server: Any = None) -> dict:  # noqa: ANN001
    """people × questions niezależnych odpowiedzi: wszystkie naraz w limicie roli."""
    from focus_groups import discussion
    from focus_groups.setup import FocusGroupIn, create_focus_group
    from sight import jobs

    panel = _panel(project, people)
    fg = create_focus_group(
        project,
        FocusGroupIn(
            name="bench interviews",
            mode="interviews",
            questions=[{"text": f"Pytanie {i} ({people}×{questions})?"} for i in range(questions)],
            participants={"persona_ids": [p.id for p in panel]},
        ),
    )
    job = discussion.start_run(fg, user=user)
    if server is not None:
        server.reset()
    started, cpu = time.perf_counter(), time.process_time()
    jobs.execute(str(job.id))
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    fg.refresh_from_db()
    critical = _fan_out_path(people * questions, "focus_group_turn")
    return {
        "benchmark": f"interviews_{people}x{questions}",
        "status": fg.status,
        "answers": fg.events.filter(kind="answer").count(),
        "elapsed_s": round(elapsed, 3),
        "worker_cpu_s": round(cpu, 3),  # CPU procesu zadania (wszystkie wątki): na bezczynnej maszynie ≈ narzut
        "critical_path_s": critical,
        "ratio": round(elapsed / critical, 3),
        "target_ratio": 1.3,
        "ok": elapsed / critical <= 1.3 and fg.status == "completed",
        **_http_stats(server),
    }


def discussion_overhead(user, project, *, server: Any = None) -> dict:  # noqa: ANN001
    """Dyskusja 6 person × 3 pytania po 18 tur: czas wobec kroków po kolei; czas zapisu zdarzenia."""
    import config
    from focus_groups import discussion
    from focus_groups.models import FocusGroup
    from focus_groups.setup import FocusGroupIn, create_focus_group
    from sight import jobs

    people = _panel(project, 6)
    fg = create_focus_group(
        project,
        FocusGroupIn(
            name="bench discussion",
            # Każde pytanie z tezą: stanowiska przed i po każdym, jak w pomiarach sprzed tez.
            questions=[{"text": f"Pytanie {i}?", "proposition": f"Teza {i}."} for i in range(3)],
            turns_per_question=18,
            participants={"persona_ids": [p.id for p in people]},
        ),
    )
    timings: list[float] = []
    original_append = FocusGroup.append_event

    def timed_append(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        started = time.perf_counter()
        result = original_append(self, *args, **kwargs)
        timings.append(time.perf_counter() - started)
        return result

    FocusGroup.append_event = timed_append
    try:
        job = discussion.start_run(fg, user=user)
        if server is not None:
            server.reset()
        started, cpu = time.perf_counter(), time.process_time()
        jobs.execute(str(job.id))
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    finally:
        FocusGroup.append_event = original_append
    fg.refresh_from_db()
    # Kroki po kolei: każda kwestia moderatora i każda tura, plus fale stanowisk (przed i po pytaniu).
    stance_waves = math.ceil(len(people) / config.load_models().role("stance").concurrency)
    steps = fg.events.filter(kind__in=("moderator", "turn")).count() + 2 * 3 * stance_waves
    critical = steps * LATENCY_MS / 1000
    stats = summary_ms(timings) if timings else {}
    per_step_ms = (elapsed - critical) / steps * 1000
    return {
        "benchmark": "discussion_6x3_18_turns",
        "status": fg.status,
        "events": fg.last_seq,
        "turns": fg.events.filter(kind="turn").count(),
        "sequential_steps": steps,
        "elapsed_s": round(elapsed, 3),
        "worker_cpu_s": round(cpu, 3),  # CPU procesu zadania (wszystkie wątki): na bezczynnej maszynie ≈ narzut
        "critical_path_s": round(critical, 3),
        "ratio": round(elapsed / critical, 3),
        "orchestration_per_step_ms": round(per_step_ms, 1),
        "event_write": stats,
        "target_ratio": 1.1,
        "target_per_step_ms": 20,
        "ok": elapsed / critical <= 1.1 and per_step_ms <= 20 and fg.status == "completed",
        **_http_stats(server),
    }


def websocket_fanout(user, project) -> dict:  # noqa: ANN001
    """20 klientów API na websockecie grupy; czas od zapisu+publikacji zdarzenia do odbioru u każdego widza."""
    from asgiref.sync import sync_to_async
    from channels.testing import WebsocketCommunicator

    from focus_groups import discussion
    from focus_groups.models import FocusGroup
    from sight.asgi import application
    from sight.models import ApiToken
    from sight.worker import WARMED_UP

    WARMED_UP.wait(120)  # serwer ASGI wczytuje słowniki w tle po starcie: mierzymy serwer już rozgrzany
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
    """Offline, potem ścieżka HTTP (dostawca `openai`, lokalny serwer); jedna linia JSON na pomiar."""
    with django_world(
        SIGHT_LLM_PROVIDER="offline", SIGHT_OFFLINE_LATENCY_MS=str(LATENCY_MS), DJANGO_ALLOW_ASYNC_UNSAFE="true"
    ):
        from sight.demo import seed_demo

        flush_redis()
        user, project = seed_demo()
        for measure in (interviews, discussion_overhead):
            emit({"path": "offline", "latency_ms": LATENCY_MS, **measure(user, project)})
        # Issue 8: 10 person × 3 pytania (30 niezależnych odpowiedzi, 3 fale po 10).
        emit({"path": "offline", "latency_ms": LATENCY_MS, **interviews(user, project, people=10, questions=3)})
        emit({"benchmark": "websocket_20_subscribers", "path": "offline", **websocket_fanout(user, project)})
        with http_provider(LATENCY_MS) as server:
            for measure in (interviews, discussion_overhead):
                emit({"path": "http", "latency_ms": LATENCY_MS, **measure(user, project, server=server)})


if __name__ == "__main__":
    main()
