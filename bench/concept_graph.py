"""Benchmark grafu pojęć dla grupy 500 wypowiedzi (10 osób w dwóch segmentach, 3 wzmianki, odniesienie i zgoda
nazwana w każdej wypowiedzi): p95 wczytania dowodów (`concept_map.load`), samej budowy grafu, obu razem i całego
żądania API (token, JSON); cel p95 ≤ 100 ms.
"""

from __future__ import annotations

import random
import time

from bench.common import django_world, emit, summary_ms
from bench.concepts import WORDS, _group, _people

RUNS = 30
TARGET_MS = 100


def _analysed_group(project):  # noqa: ANN001, ANN202
    """5 pytań × 100 wypowiedzi z wzmiankami, odniesieniami i zgodą z poprzednim mówcą; segmenty na przemian."""
    from focus_groups.models import Concept, ConceptMention, FocusGroupEvent, TurnRelation
    from personas.models import PersonaRun, Segment

    people = _people(project, 10)
    run = PersonaRun.objects.create(project=project, num_requested=10, seed=1)
    segments = [Segment.objects.create(run=run, project=project, index=i, name=f"segment {i}") for i in range(2)]
    for i, persona in enumerate(people):
        persona.segment = segments[i % 2]
        persona.save(update_fields=["segment"])
    fg = _group(project, people, questions=5, turns=100, name="bench graph")
    turns = list(fg.events.order_by("seq"))
    for i, event in enumerate(turns[1:], start=1):  # zgoda nazwana w wypowiedzi, jak zapisuje ją silnik dyskusji
        event.payload["agrees_with"] = [str(turns[i - 1].persona_id)]
    FocusGroupEvent.objects.bulk_update(turns, ["payload"])
    concepts = {w: Concept.objects.create(project=project, key=w, name=w) for w in WORDS}
    rng = random.Random(7)
    ConceptMention.objects.bulk_create(
        ConceptMention(event=e, concept=concepts[w], focus_group=fg, stance=rng.uniform(-1, 1), quote=w)
        for e in turns
        for w in rng.sample(WORDS, 3)
    )
    TurnRelation.objects.bulk_create(
        TurnRelation(event=e, target=turns[i - 1], focus_group=fg, relation="disagree")
        for i, e in enumerate(turns)
        if i
    )
    return fg


def _timed(call) -> dict:  # noqa: ANN001
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return summary_ms(times)


def main() -> None:
    """Budowa grafu w procesie i żądanie API z tokenem (bez filtra i z filtrem pytania), jeden JSON."""
    with django_world():
        from django.test import Client

        from focus_groups import concept_map
        from sight.models import ApiToken, Project, User

        user = User.objects.create_user("bench@example.com", "x")
        project = Project.objects.create(owner=user, name="bench", target_demographics={"gender": {"female": 1.0}})
        fg = _analysed_group(project)
        token = ApiToken.issue(user=user, name="bench")[1]
        client = Client(headers={"authorization": f"Bearer {token}"})
        url = f"/api/v1/focus-groups/{fg.id}/concept-graph"
        first = client.get(url)
        body = first.json()
        evidence = concept_map.load(fg)
        load = _timed(lambda: concept_map.load(fg))  # cztery zapytania i dekodowanie wierszy
        build_only = _timed(lambda: concept_map.build(evidence, concept_map.GraphFilters()))
        build = _timed(lambda: concept_map.concept_graph(fg))
        api = _timed(lambda: client.get(url))
        api_question = _timed(lambda: client.get(url, {"question": 2, "stance": "oppose"}))
        result = {
            "benchmark": "concept_graph",
            "turns": 500,
            "nodes": len(body["nodes"]),
            "edges": len(body["edges"]),
            "evidence": sum(len(e["evidence"]) for e in body["edges"]),
            "response_kb": round(len(first.content) / 1024, 1),
            "load": load,
            "build_without_load": build_only,
            "build": build,
            "api": api,
            "api_question_and_stance": api_question,
            "target_p95_ms": TARGET_MS,
        }
        result["ok"] = first.status_code == 200 and api["p95_ms"] <= TARGET_MS
        emit(result)


if __name__ == "__main__":
    main()
