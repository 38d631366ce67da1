"""Benchmark pojęć z dyskusji: ekstrakcja 6×3 (offline, 200 ms na wywołanie) wobec ścieżki krytycznej przy limicie
roli, wnioski dla grupy 500 wypowiedzi (p95), odbudowa grafu 20 grup dwa razy (te same liczności).
"""

from __future__ import annotations

import math
import random
import time

from bench.common import django_world, emit, flush_redis, summary_ms

LATENCY_MS = 200
WORDS = ["cena", "jakość", "dostawa", "obsługa", "aplikacja", "promocja", "opakowanie", "marka", "zwrot", "gwarancja"]


def _group(project, people, *, questions: int, turns: int, name: str):  # noqa: ANN001, ANN202
    """Grupa z zapisanymi wypowiedziami i stanowiskami (bez LLM): `turns` na pytanie, mówcy po kolei."""
    from focus_groups.models import FocusGroup, Participant

    fg = FocusGroup.objects.create(
        project=project, name=name, questions=[{"text": f"Pytanie {i}?"} for i in range(questions)], status="completed"
    )
    Participant.objects.bulk_create(Participant(focus_group=fg, persona=p, position=i) for i, p in enumerate(people))
    rng = random.Random(len(name))
    for qi in range(questions):
        for t in range(turns):
            persona = people[t % len(people)]
            words = rng.sample(WORDS, 3)
            text = f"Myślę, że {words[0]} jest ważna. Ale {words[1]} mnie martwi, a {words[2]} jest w porządku."
            fg.append_event(
                "turn",
                key=f"q{qi}:turn:{t}",
                payload={"text": text, "persona_name": persona.full_name, "agrees_with": [], "disagrees_with": []},
                persona_id=persona.id,
                question_index=qi,
            )
    return fg


def _people(project, n: int) -> list:  # noqa: ANN001
    from personas.models import Persona

    return [
        Persona.objects.create(project=project, index=i, full_name=f"Osoba {i} Nowak", gender="female", age=30 + i)
        for i in range(n)
    ]


def extraction(user, project) -> dict:  # noqa: ANN001
    """6 person × 3 pytania × 6 tur = 18 wywołań; ścieżka krytyczna = ⌈18 / concurrency⌉ × 200 ms."""
    import config
    from focus_groups import concepts
    from sight import graph, jobs, llm

    fg = _group(project, _people(project, 6), questions=3, turns=6, name="bench extraction")
    # Wczytanie modelu embeddingów i pierwsze połączenie z grafem to koszt procesu workera, nie zadania.
    llm.build_embeddings().embed_query("rozgrzewka")
    graph.bootstrap()
    job = concepts.start_extraction(fg, user=user)
    started = time.perf_counter()
    jobs.execute(str(job.id))
    elapsed = time.perf_counter() - started
    job.refresh_from_db()
    limit = config.load_models().role(concepts.ROLE).concurrency
    critical = math.ceil(18 / limit) * LATENCY_MS / 1000
    return {
        "turns": 18,
        "concurrency": limit,
        "done": job.result.get("done"),
        "skipped": job.result.get("skipped"),
        "elapsed_s": round(elapsed, 3),
        "critical_path_s": critical,
        "ratio": round(elapsed / critical, 3),
        "target_ratio": 1.3,
        "ok": elapsed <= 1.3 * critical and job.result.get("skipped") == 0,
    }


def insights_500(project) -> dict:  # noqa: ANN001
    """Wnioski z PostgreSQL dla 500 wypowiedzi z 3 wzmiankami, emocją i odniesieniem każda."""
    from focus_groups import insights
    from focus_groups.models import Concept, ConceptMention, TurnEmotion, TurnRelation

    fg = _group(project, _people(project, 10), questions=5, turns=100, name="bench insights")
    concepts = {w: Concept.objects.create(project=project, key=w, name=w) for w in WORDS}
    turns = list(fg.events.order_by("seq"))
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
    times = []
    for _ in range(30):
        started = time.perf_counter()
        insights.insights(fg)
        times.append(time.perf_counter() - started)
    stats = summary_ms(times)
    return {"turns": 500, "insights": stats, "target_p95_ms": 100, "ok": stats["p95_ms"] <= 100}


def rebuild_20(project) -> dict:  # noqa: ANN001
    """20 grup z wzmiankami: odbudowa grafu projektu dwa razy daje te same liczności."""
    from focus_groups.models import Concept, ConceptMention
    from sight import graph

    people = _people(project, 6)
    concepts = {w: Concept.objects.get_or_create(project=project, key=w, defaults={"name": w})[0] for w in WORDS}
    for n in range(20):
        fg = _group(project, people, questions=3, turns=6, name=f"bench rebuild {n}")
        ConceptMention.objects.bulk_create(
            ConceptMention(event=e, concept=concepts[WORDS[e.seq % len(WORDS)]], focus_group=fg, stance=0.5, quote="x")
            for e in fg.events.all()
        )
    started = time.perf_counter()
    first = graph.rebuild_from_database(project.id)
    second = graph.rebuild_from_database(project.id)
    elapsed = time.perf_counter() - started
    graph.delete_project(project.id)
    return {"first": first, "second": second, "two_rebuilds_s": round(elapsed, 3), "ok": first == second}


def _copy(project, name: str):  # noqa: ANN001, ANN202
    """Osobny projekt tego samego właściciela (pojęcia i graf nie mieszają się z innymi pomiarami)."""
    from sight.models import Project

    return Project.objects.create(
        owner=project.owner, name=name, language=project.language, target_demographics=project.target_demographics
    )


def main() -> None:
    """Trzy pomiary, jeden JSON."""
    with django_world(SIGHT_LLM_PROVIDER="offline", SIGHT_OFFLINE_LATENCY_MS=str(LATENCY_MS)):
        from sight.demo import seed_demo

        flush_redis()
        user, project = seed_demo()
        result = {
            "benchmark": "concepts",
            "latency_ms": LATENCY_MS,
            "extraction_6x3": extraction(user, project),
            "insights_500_turns": insights_500(_copy(project, "bench insights")),
            "rebuild_20_groups": rebuild_20(_copy(project, "bench rebuild")),
        }
        result["ok"] = all(v["ok"] for v in result.values() if isinstance(v, dict))
        emit(result)


if __name__ == "__main__":
    main()
