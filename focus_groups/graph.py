"""Grupy fokusowe w grafie pojęć: wyniki ekstrakcji z PostgreSQL zapisane jako węzły i relacje-dowody."""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from focus_groups.models import ConceptMention, FocusGroup, TurnEmotion, TurnRelation
from sight import graph
from sight.models import Project


def evidence(fg: FocusGroup) -> dict[str, Any]:
    """Dowody grupy dla `graph.write_focus_group` (cztery zapytania, niezależnie od liczby wypowiedzi)."""
    participants = [
        {"id": pid, "name": name, "segment": segment or ""}
        for pid, name, segment in fg.participant_links.values_list(
            "persona_id", "persona__full_name", "persona__segment__name"
        )
    ]
    mentions = list(
        ConceptMention.objects.filter(focus_group=fg).values(
            "concept_id",
            "concept__key",
            "concept__name",
            "stance",
            "quote",
            "event_id",
            "event__seq",
            "event__persona_id",
            "event__question_index",
        )
    )
    relations = TurnRelation.objects.filter(focus_group=fg, event__persona__isnull=False, target__persona__isnull=False)
    emotions = TurnEmotion.objects.filter(focus_group=fg, event__persona__isnull=False)
    return {
        "participants": participants,
        "concepts": [{"id": m["concept_id"], "key": m["concept__key"], "name": m["concept__name"]} for m in mentions],
        "mentions": [
            {
                "persona_id": m["event__persona_id"],
                "concept_id": m["concept_id"],
                "turn_id": m["event_id"],
                "seq": m["event__seq"],
                "question_index": m["event__question_index"],
                "stance": m["stance"],
                "quote": m["quote"],
            }
            for m in mentions
            if m["event__persona_id"] is not None
        ],
        "relations": [
            {
                "persona_id": r["event__persona_id"],
                "target_persona_id": r["target__persona_id"],
                "turn_id": r["event_id"],
                "target_turn_id": r["target_id"],
                "seq": r["event__seq"],
                "question_index": r["event__question_index"],
                "relation": r["relation"],
            }
            for r in relations.values(
                "event_id",
                "target_id",
                "relation",
                "event__seq",
                "event__persona_id",
                "event__question_index",
                "target__persona_id",
            )
        ],
        "emotions": [
            {
                "persona_id": e["event__persona_id"],
                "emotion": e["emotion"],
                "turn_id": e["event_id"],
                "seq": e["event__seq"],
                "question_index": e["event__question_index"],
            }
            for e in emotions.values("event_id", "emotion", "event__seq", "event__persona_id", "event__question_index")
        ],
    }


def write_focus_group(fg: FocusGroup) -> None:
    """Zapisuje (zastępuje) grupę w grafie z PostgreSQL; brak serwera grafu to `graph.GraphUnavailable`."""
    graph.upsert_project(fg.project_id, fg.project.name, fg.project.language)  # ten sam graf co po odbudowie
    graph.write_focus_group(fg.project_id, {"id": fg.id, "name": fg.name}, evidence(fg))


@graph.rebuild_step
def write_focus_groups(project: Project) -> None:
    """Krok odbudowy grafu: grupy projektu, które mają wyniki ekstrakcji."""
    analysed = Q(turn_extractions__isnull=False) | Q(concept_mentions__isnull=False)
    for fg in FocusGroup.objects.filter(analysed, project=project).distinct().order_by("id"):
        write_focus_group(fg)
