"""Benchmark pojęć z dyskusji: ekstrakcja 6×3 (offline, 200 ms na wywołanie) wobec ścieżki krytycznej przy limicie
roli, wnioski dla grupy 500 wypowiedzi (p95), odbudowa grafu 20 grup dwa razy (te same liczności).
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager

from bench.common import django_world, emit, flush_redis, summary_ms

LATENCY_MS = 200
WORDS = ["cena", "jakość", "dostawa", "obsługa", "aplikacja", "promocja", "opakowanie", "marka", "zwrot", "gwarancja"]


def _group(project, people, *, questions: int, turns: int, name: str, stances: bool = False):  # noqa: ANN001, ANN202
    """Grupa z zapisanymi wypowiedziami (bez LLM): `turns` na pytanie, mówcy po kolei; ze `stances` odczyty stanowisk
    przed i po każdym pytaniu (co trzecia osoba zmienia zdanie).
    """
    from focus_groups.models import FocusGroup, Participant

    fg = FocusGroup.objects.create(
        project=project, name=name, questions=[{"text": f"Pytanie {i}?"} for i in range(questions)], status="completed"
    )
    Participant.objects.bulk_create(Participant(focus_group=fg, persona=p, position=i) for i, p in enumerate(people))
    rng = random.Random(len(name))
    readings = ("oppose", "neutral", "support")

    def stance_events(qi: int, when: str) -> list[dict]:
        shift = 1 if when == "after" else 0
        return [
            {
                "kind": "stance",
                "key": f"q{qi}:stance:{when}:{p.id}",
                "payload": {"when": when, "stance": readings[(n + shift * (n % 3 == 0)) % 3]},
                "persona_id": p.id,
                "question_index": qi,
            }
            for n, p in enumerate(people)
        ]

    for qi in range(questions):
        items = stance_events(qi, "before") if stances else []
        for t in range(turns):
            persona = people[t % len(people)]
            words = rng.sample(WORDS, 3)
            text = f"Myślę, że {words[0]} jest ważna. Ale {words[1]} mnie martwi, a {words[2]} jest w porządku."
            previous = people[(t - 1) % len(people)]
            items.append(
                {
                    "kind": "turn",
                    "key": f"q{qi}:turn:{t}",
                    "payload": {
                        "text": text,
                        "persona_name": persona.full_name,
                        "agrees_with": [str(previous.id)] if stances and t % 4 == 1 else [],
                        "disagrees_with": [],
                    },
                    "persona_id": persona.id,
                    "question_index": qi,
                }
            )
        fg.append_events(items + (stance_events(qi, "after") if stances else []))
    return fg


def _people(project, n: int) -> list:  # noqa: ANN001
    from personas.models import Persona

    return [
        Persona.objects.create(project=project, index=i, full_name=f"Osoba {i} Nowak", gender="female", age=30 + i)
        for i in range(n)
    ]


class _InFlight:
    """Liczniki wywołań modelu offline: żądania i najwięcej naraz (jak `/stats` serwera z bench/llm_server.py)."""

    def __init__(self) -> None:
        self.requests = self.now = self.max = 0


@contextmanager
def counted_offline_calls() -> Iterator[_InFlight]:
    """Na czas bloku każde wywołanie modelu `offline` jest liczone (także ponowne pytania po błędnym wyniku)."""
    from sight.llm.offline import OfflineChatModel

    counter, original = _InFlight(), OfflineChatModel._agenerate

    async def counted(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        counter.requests += 1
        counter.now += 1
        counter.max = max(counter.max, counter.now)
        try:
            return await original(self, *args, **kwargs)
        finally:
            counter.now -= 1

    OfflineChatModel._agenerate = counted  # type: ignore[method-assign]
    try:
        yield counter
    finally:
        OfflineChatModel._agenerate = original  # type: ignore[method-assign]


def extraction(user, project) -> dict:  # noqa: ANN001
    """6 person × 3 pytania × 6 tur = 18 wywołań; ścieżka krytyczna = ⌈18 / concurrency⌉ × 200 ms."""
    import config
    from focus_groups import concepts
    from sight import graph, jobs, llm

    fg = _group(project, _people(project, 6), questions=3, turns=6, name="bench extraction")
    # Wczytanie modelu embeddingów, konfiguracji i promptów oraz pierwsze połączenie z grafem to koszt procesu workera
    # (sight/worker.py wczytuje je przed rozwidleniem), nie zadania.
    llm.preload_providers()
    llm.build_embeddings().embed_query("rozgrzewka")
    graph.bootstrap()
    job = concepts.start_extraction(fg, user=user)
    with counted_offline_calls() as calls:
        started, cpu = time.perf_counter(), time.process_time()
        jobs.execute(str(job.id))
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    job.refresh_from_db()
    limit = config.load_models().role(concepts.ROLE).concurrency
    critical = math.ceil(18 / limit) * LATENCY_MS / 1000
    return {
        "turns": 18,
        "concurrency": limit,
        "requests": calls.requests,
        "max_in_flight": calls.max,
        "done": job.result.get("done"),
        "skipped": job.result.get("skipped"),
        "elapsed_s": round(elapsed, 3),
        "cpu_s": round(cpu, 3),  # CPU procesu zadania (wszystkie wątki); na obciążonej maszynie elapsed rośnie bardziej
        "critical_path_s": critical,
        "ratio": round(elapsed / critical, 3),
        "target_ratio": 1.3,
        "ok": elapsed <= 1.3 * critical and job.result.get("skipped") == 0 and calls.max <= limit,
    }


def _analysed_500(project):  # noqa: ANN001, ANN202
    """Grupa 10 osób × 5 pytań × 100 wypowiedzi: 3 wzmianki, emocja i odniesienie na wypowiedź, zgody nazwane w
    wypowiedziach i odczyty stanowisk przed i po każdym pytaniu (część osób zmienia zdanie).
    """
    from focus_groups.models import Concept, ConceptMention, TurnEmotion, TurnRelation

    people = _people(project, 10)
    fg = _group(project, people, questions=5, turns=100, name="bench insights", stances=True)
    concepts = {w: Concept.objects.create(project=project, key=w, name=w) for w in WORDS}
    turns = list(fg.events.filter(kind="turn").order_by("seq"))
    rng = random.Random(7)
    ConceptMention.objects.bulk_create(
        ConceptMention(event=e, concept=concepts[w], focus_group=fg, stance=rng.uniform(-1, 1), quote=w)
        for e in turns
        for w in rng.sample(WORDS, 3)
    )
    TurnEmotion.objects.bulk_create(TurnEmotion(event=e, focus_group=fg, emotion="interest") for e in turns)
    TurnRelation.objects.bulk_create(
        TurnRelation(event=e, target=turns[i - 1], focus_group=fg, relation="agree") for i, e in enumerate(turns) if i
    )
    return fg


def insights_500(project) -> dict:  # noqa: ANN001
    """Wnioski z PostgreSQL dla 500 wypowiedzi: funkcja domenowa i `GET /api/v1/focus-groups/{id}/insights` (JSON),
    po 30 razy; liczba zapytań jednego wywołania.
    """
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from focus_groups import insights
    from sight.models import ApiToken

    fg = _analysed_500(project)
    client = Client(headers={"authorization": f"Bearer {ApiToken.issue(user=project.owner, name='bench')[1]}"})
    url = f"/api/v1/focus-groups/{fg.id}/insights"
    assert client.get(url).status_code == 200
    domain, api = [], []
    for _ in range(30):
        started = time.perf_counter()
        insights.insights(fg)
        domain.append(time.perf_counter() - started)
        started = time.perf_counter()
        client.get(url)
        api.append(time.perf_counter() - started)
    with CaptureQueriesContext(connection) as queries:
        insights.insights(fg)
    stats = summary_ms(api)
    return {
        "turns": 500,
        "queries": len(queries.captured_queries),
        "insights": summary_ms(domain),
        "api": stats,
        "target_p95_ms": 100,
        "ok": stats["p95_ms"] <= 100,
    }


def rebuild_20(project) -> dict:  # noqa: ANN001
    """20 grup z wzmiankami, emocjami i odniesieniami: odbudowa grafu projektu dwa razy daje te same liczności węzłów
    i relacji (każdego rodzaju i wszystkich razem).
    """
    from focus_groups.models import Concept, ConceptMention, TurnEmotion, TurnRelation
    from sight import graph

    people = _people(project, 6)
    concepts = {w: Concept.objects.get_or_create(project=project, key=w, defaults={"name": w})[0] for w in WORDS}
    for n in range(20):
        fg = _group(project, people, questions=3, turns=6, name=f"bench rebuild {n}")
        turns = list(fg.events.order_by("seq"))
        ConceptMention.objects.bulk_create(
            ConceptMention(event=e, concept=concepts[WORDS[e.seq % len(WORDS)]], focus_group=fg, stance=0.5, quote="x")
            for e in turns
        )
        TurnEmotion.objects.bulk_create(TurnEmotion(event=e, focus_group=fg, emotion="interest") for e in turns)
        TurnRelation.objects.bulk_create(
            TurnRelation(event=e, target=turns[i - 1], focus_group=fg, relation="agree")
            for i, e in enumerate(turns)
            if i and e.question_index == turns[i - 1].question_index
        )
    started = time.perf_counter()
    first = graph.rebuild_from_database(project.id)
    first_totals = graph.totals(project.id)
    second = graph.rebuild_from_database(project.id)
    second_totals = graph.totals(project.id)
    elapsed = time.perf_counter() - started
    graph.delete_project(project.id)
    return {
        "first": {**first_totals, **first},
        "second": {**second_totals, **second},
        "two_rebuilds_s": round(elapsed, 3),
        "ok": first == second and first_totals == second_totals,
    }


def _copy(project, name: str):  # noqa: ANN001, ANN202
    """Osobny projekt tego samego właściciela (pojęcia i graf nie mieszają się z innymi pomiarami)."""
    from sight.models import Project

    return Project.objects.create(
        owner=project.owner, name=name, language=project.language, target_demographics=project.target_demographics
    )


def main() -> None:
    """Ekstrakcja (projekt bez budżetu i z budżetem tokenów), wnioski, odbudowa — jeden JSON."""
    with django_world(SIGHT_LLM_PROVIDER="offline", SIGHT_OFFLINE_LATENCY_MS=str(LATENCY_MS)):
        from sight.demo import seed_demo

        flush_redis()
        user, project = seed_demo()
        budgeted = extraction(user, project)  # projekt demo ma budżet tokenów: `llm` co 0,5 s czyta zużycie z bazy
        flush_redis()  # te same prompty trafiłyby do cache LLM
        result = {
            "benchmark": "concepts",
            "latency_ms": LATENCY_MS,
            "extraction_6x3": extraction(user, _copy(project, "bench extraction")),
            "extraction_6x3_token_budget": budgeted,
            "insights_500_turns": insights_500(_copy(project, "bench insights")),
            "rebuild_20_groups": rebuild_20(_copy(project, "bench rebuild")),
        }
        result["ok"] = all(v["ok"] for v in result.values() if isinstance(v, dict))
        emit(result)


if __name__ == "__main__":
    main()
