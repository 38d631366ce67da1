"""Graf pojęć grupy do oglądania: persony, pojęcia i segmenty jako węzły, krawędzie z dowodami (wypowiedzi, cytaty,
kotwice transkrypcji), filtry pytania, segmentu, nastawienia i pojęcia; ta sama treść jako tabela i eksport CSV/JSON.

Liczone z PostgreSQL (`load`, cztery zapytania niezależnie od rozmiaru), nie z bazy grafowej: strona działa, gdy grafu
nie ma. Rozmiar jest ograniczony: najwyżej `limit` najczęstszych pojęć po filtrach i `quotes` dowodów na krawędź.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import TextField
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Left
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from focus_groups.insights import SIDE, SPOKEN
from focus_groups.models import ConceptMention, FocusGroup, TurnRelation
from sight.text import has_nul, spreadsheet_csv

TOP_CONCEPTS = 30  # domyślna liczba pojęć w grafie (najczęstsze po filtrach)
MAX_CONCEPTS = 100  # górna granica `limit` w API
CONCEPT_OPTIONS = 100  # pojęcia do wyboru w filtrze
QUOTE_CHARS = 240  # wypowiedź jako dowód relacji między osobami: początek tekstu
QUOTES_PER_EDGE = 5  # dowody na krawędź w grafie i tabeli strony (eksport ma wszystkie; `count` mówi, ile ich jest)
MAX_QUOTES_PER_EDGE = 100  # górna granica `quotes` w API
STANCES = ("support", "oppose", "mixed")
RELATIONS = ("agree", "disagree", "addressed", "builds_on")

KIND_LABELS = {
    "persona": gettext_lazy("Participant"),
    "concept": gettext_lazy("Concept"),
    "segment": gettext_lazy("Segment"),
}
STANCE_LABELS = {
    "support": gettext_lazy("support"),
    "oppose": gettext_lazy("oppose"),
    "mixed": gettext_lazy("mixed or neutral"),
}
EDGE_LABELS = {
    "stance": gettext_lazy("talks about"),
    "agree": gettext_lazy("agrees with"),
    "disagree": gettext_lazy("disagrees with"),
    "addressed": gettext_lazy("addresses"),
    "builds_on": gettext_lazy("builds on"),
    "member": gettext_lazy("belongs to"),
}


@dataclass(frozen=True)
class GraphFilters:
    """Filtry grafu: pytanie (indeks od 0), nazwa segmentu, nastawienie wobec pojęcia, identyfikator pojęcia."""

    question: int | None = None
    segment: str | None = None
    stance: str | None = None
    concept: str | None = None
    limit: int = TOP_CONCEPTS

    @classmethod
    def from_query(cls, params: Mapping[str, str], *, questions: int) -> GraphFilters:
        """Filtry z parametrów strony; wartość błędna albo spoza dyskusji znaczy „bez filtra” (jak `?question=`)."""
        raw_question = params.get("question", "")
        segment = params.get("segment", "").strip()
        stance = params.get("stance", "")
        try:
            concept: str | None = str(uuid.UUID(params.get("concept", "")))
        except ValueError:
            concept = None
        return cls(
            question=int(raw_question) if raw_question.isdigit() and int(raw_question) < questions else None,
            segment=segment if segment and not has_nul(segment) else None,
            stance=stance if stance in STANCES else None,
            concept=concept,
        )

    def as_query(self) -> dict[str, str]:
        """Ustawione filtry jako parametry adresu (linki eksportu niosą te same filtry co widok)."""
        values = {"question": self.question, "segment": self.segment, "stance": self.stance, "concept": self.concept}
        return {k: str(v) for k, v in values.items() if v is not None}


def stance_class(value: float | None) -> str:
    """Za (średnia ≥ 0,25), przeciw (≤ −0,25), inaczej mieszane albo neutralne — ten sam próg co sporne pojęcia."""
    if value is not None and value >= SIDE:
        return "support"
    if value is not None and value <= -SIDE:
        return "oppose"
    return "mixed"


@dataclass
class Evidence:
    """Dowody grupy potrzebne grafowi: uczestnicy (imię, segment), wypowiedzi z nazwanymi osobami i początkiem tekstu,
    każda wzmianka z cytatem, odniesienia między wypowiedziami.
    """

    fg: FocusGroup
    people: dict[str, dict[str, str]]
    turns: dict[int, dict[str, Any]]
    mentions: list[dict[str, Any]]
    relations: list[dict[str, Any]]


def _text(field: str) -> Cast:
    """Identyfikator jako tekst już w SQL (bez obiektu UUID na wiersz)."""
    return Cast(field, output_field=TextField())


def load(fg: FocusGroup) -> Evidence:
    """Wczytuje dowody grafu w czterech zapytaniach; z treści wypowiedzi tylko początek (cytat relacji między osobami),
    a wzmianek nie łączymy z wypowiedziami w SQL — te są już w pamięci.
    """
    people = {
        pid: {"name": name, "segment": segment or ""}
        for pid, name, segment in fg.participant_links.values_list(
            _text("persona_id"), "persona__full_name", "persona__segment__name"
        )
    }
    rows = fg.events.filter(kind__in=SPOKEN).order_by("seq")
    turns = {
        eid: {
            "id": eid,
            "seq": seq,
            "persona_id": pid,
            "question_index": qi,
            "text": text or "",
            "addressed_to": addressed,
            "agrees_with": [str(p) for p in agrees or []],
            "disagrees_with": [str(p) for p in disagrees or []],
        }
        for eid, seq, pid, qi, text, addressed, agrees, disagrees in rows.values_list(
            "id",
            "seq",
            _text("persona_id"),
            "question_index",
            Left(KT("payload__text"), QUOTE_CHARS + 1),
            KT("payload__addressed_to_id"),
            "payload__agrees_with",
            "payload__disagrees_with",
        )
    }
    fields = ("event_id", "concept_id", "concept__key", "concept__name", "stance", "quote")
    mentions = [
        dict(zip(fields, row, strict=True))
        for row in ConceptMention.objects.filter(focus_group=fg)
        .values_list("event_id", _text("concept_id"), "concept__key", "concept__name", "stance", "quote")
        .order_by()
    ]
    relations = [
        {"event_id": event_id, "target_id": target_id, "relation": relation}
        for event_id, target_id, relation in TurnRelation.objects.filter(focus_group=fg)
        .values_list("event_id", "target_id", "relation")
        .order_by()
    ]
    return Evidence(fg, people, turns, mentions, relations)


def concept_graph(
    fg: FocusGroup, filters: GraphFilters | None = None, *, quotes: int | None = QUOTES_PER_EDGE
) -> dict[str, Any]:
    """Węzły, krawędzie z dowodami i możliwe wartości filtrów (stała liczba zapytań, niezależnie od rozmiaru).

    `quotes`: ile dowodów na krawędź (pierwsze w transkrypcji; `count` mówi, ile ich jest), `None` — wszystkie.
    """
    return build(load(fg), filters or GraphFilters(), quotes=quotes)


def build(ev: Evidence, filters: GraphFilters, *, quotes: int | None = QUOTES_PER_EDGE) -> dict[str, Any]:
    """Graf z wczytanych dowodów grupy po filtrach."""
    transcript = reverse("focus_groups:detail", args=[ev.fg.id])
    people = {pid: p for pid, p in ev.people.items() if filters.segment is None or p["segment"] == filters.segment}
    turns = {
        eid: t
        for eid, t in ev.turns.items()
        if t["persona_id"] in people and (filters.question is None or t["question_index"] == filters.question)
    }

    def evidence(turn: dict[str, Any], quote: str, stance: float | None = None) -> dict[str, Any]:
        return {
            "turn_id": turn["id"],
            "seq": turn["seq"],
            "question_index": turn["question_index"],
            "persona_id": turn["persona_id"],
            "name": people[turn["persona_id"]]["name"],
            "quote": quote,
            "stance": stance,
            "url": f"{transcript}#event-{turn['seq']}",
        }

    concept_edges, concepts, omitted = _concept_edges(ev, turns, filters)
    speakers = {e["source"].removeprefix("persona:") for e in concept_edges}
    shown = speakers if filters.stance or filters.concept else set(people)
    persona_edges = _persona_edges(ev, turns, shown)
    for edge in concept_edges + persona_edges:  # słowniki dowodów tylko dla pokazanych (to koszt dużych grup)
        edge["evidence"] = [evidence(*proof) for proof in edge["evidence"][:quotes]]
    segments = sorted({people[pid]["segment"] for pid in shown} - {""})
    sizes = defaultdict(int)
    for p in ev.people.values():
        sizes[p["segment"]] += 1
    nodes = [
        {
            "id": f"persona:{pid}",
            "kind": "persona",
            "label": people[pid]["name"],
            "segment": people[pid]["segment"],
            "mentions": sum(e["count"] for e in concept_edges if e["source"] == f"persona:{pid}"),
            "participants": None,
            "of_participants": None,
            "stance": None,
            "stance_class": None,
        }
        for pid in sorted(shown, key=lambda pid: (people[pid]["name"], pid))
    ]
    nodes += concepts
    nodes += [
        {
            "id": f"segment:{name}",
            "kind": "segment",
            "label": name,
            "segment": name,
            "mentions": None,
            "participants": sum(1 for pid in shown if people[pid]["segment"] == name),
            "of_participants": sizes[name],
            "stance": None,
            "stance_class": None,
        }
        for name in segments
    ]
    member = [
        _edge(f"persona:{pid}", f"segment:{people[pid]['segment']}", "member", [])
        for pid in sorted(shown, key=lambda pid: (people[pid]["name"], pid))
        if people[pid]["segment"]
    ]
    for node in nodes:
        node["kind_label"] = str(KIND_LABELS[node["kind"]])
        node["stance_label"] = str(STANCE_LABELS[node["stance_class"]]) if node["stance_class"] else ""
    return {
        "focus_group_id": str(ev.fg.id),
        "filters": {**filters.as_query(), "limit": filters.limit},
        "nodes": nodes,
        "edges": concept_edges + persona_edges + member,
        "omitted_concepts": omitted,
        "options": _options(ev),
    }


def _concept_edges(
    ev: Evidence, turns: dict[int, dict[str, Any]], filters: GraphFilters
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], int]:
    """Krawędzie persona → pojęcie (średnie nastawienie osoby i jego klasa; dowody jako krotki wypowiedź, cytat,
    nastawienie), węzły najczęstszych pojęć i liczba pojęć pominiętych ponad limit.
    """
    # Klucz kanoniczny jest w projekcie jednoznaczny jak id, a napis hashuje się w C (UUID — w Pythonie).
    grouped: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    names, ids = {}, {}
    only = filters.concept
    for m in ev.mentions:
        turn = turns.get(m["event_id"])
        if turn is not None and (only is None or m["concept_id"] == only):
            grouped[(turn["persona_id"], m["concept__key"])].append(m)
            names[m["concept__key"]], ids[m["concept__key"]] = m["concept__name"], m["concept_id"]
    per_concept: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for (pid, key), items in grouped.items():
        stance = round(sum(m["stance"] for m in items) / len(items), 3)
        if filters.stance is None or stance_class(stance) == filters.stance:
            items.sort(key=lambda m: turns[m["event_id"]]["seq"])
            proof = [(turns[m["event_id"]], m["quote"], m["stance"]) for m in items]
            per_concept[key].append(_edge(f"persona:{pid}", f"concept:{ids[key]}", "stance", proof, stance=stance))
    mentions = {key: sum(e["count"] for e in edges) for key, edges in per_concept.items()}
    ranked = sorted(per_concept, key=lambda c: (-mentions[c], -len(per_concept[c]), names[c], c))
    nodes, edges = [], []
    for key in ranked[: filters.limit]:
        items = sorted(per_concept[key], key=lambda e: e["source"])
        stances = [stance for e in items for _turn, _quote, stance in e["evidence"]]
        classes = {e["stance_class"] for e in items}
        nodes.append(
            {
                "id": f"concept:{ids[key]}",
                "kind": "concept",
                "label": names[key],
                "segment": None,
                "mentions": len(stances),
                "participants": len(items),
                "of_participants": len(ev.people),
                "stance": round(sum(stances) / len(stances), 3),
                "stance_class": classes.pop() if len(classes) == 1 else "mixed",
            }
        )
        edges += items
    return edges, nodes, max(0, len(ranked) - filters.limit)


def _persona_edges(ev: Evidence, turns: dict[int, dict[str, Any]], shown: set[str]) -> list[dict[str, Any]]:
    """Krawędzie osoba → osoba: zgoda, niezgoda, zwrócenie się (nazwane w wypowiedzi) i odniesienia z ekstrakcji;
    dowodem jest wypowiedź (jej początek jako cytat).
    """
    proof: dict[tuple[str, str, str], dict[int, tuple[dict[str, Any], str, None]]] = defaultdict(dict)

    def add(turn: dict[str, Any], other: Any, relation: str) -> None:
        other = str(other) if other else None
        if turn["persona_id"] in shown and other in shown and other != turn["persona_id"]:
            text = turn["text"] if len(turn["text"]) <= QUOTE_CHARS else turn["text"][: QUOTE_CHARS - 1] + "…"
            proof[(turn["persona_id"], other, relation)][turn["id"]] = (turn, text, None)

    for turn in turns.values():
        add(turn, turn["addressed_to"], "addressed")
        for other in turn["agrees_with"]:
            add(turn, other, "agree")
        for other in turn["disagrees_with"]:
            add(turn, other, "disagree")
    for r in ev.relations:
        turn, target = turns.get(r["event_id"]), ev.turns.get(r["target_id"])
        if turn is not None and target is not None:
            add(turn, target["persona_id"], r["relation"])
    edges = [
        _edge(f"persona:{a}", f"persona:{b}", relation, sorted(items.values(), key=lambda p: p[0]["seq"]))
        for (a, b, relation), items in proof.items()
    ]
    return sorted(edges, key=lambda e: (RELATIONS.index(e["type"]), e["source"], e["target"]))


def _edge(source: str, target: str, kind: str, evidence: list[tuple], stance: float | None = None) -> dict[str, Any]:
    return {
        "id": f"{kind}:{source}->{target}",
        "source": source,
        "target": target,
        "type": kind,
        "type_label": str(EDGE_LABELS[kind]),
        "stance": stance,
        "stance_class": stance_class(stance) if kind == "stance" else None,
        "stance_label": str(STANCE_LABELS[stance_class(stance)]) if kind == "stance" else "",
        "count": len(evidence),
        "evidence": evidence,
    }


def _options(ev: Evidence) -> dict[str, Any]:
    """Wartości filtrów: pytania, segmenty uczestników, nastawienia i najczęstsze pojęcia (z etykietami)."""
    counts: dict[str, int] = defaultdict(int)
    names, ids = {}, {}
    for m in ev.mentions:
        counts[m["concept__key"]] += 1
        names[m["concept__key"]], ids[m["concept__key"]] = m["concept__name"], m["concept_id"]
    top = sorted(counts, key=lambda c: (-counts[c], names[c], c))[:CONCEPT_OPTIONS]
    return {
        "questions": [{"value": i, "label": f"Q{i + 1}. {text}"} for i, text in enumerate(ev.fg.question_texts())],
        "segments": sorted({p["segment"] for p in ev.people.values()} - {""}),
        "stances": [{"value": s, "label": str(STANCE_LABELS[s])} for s in STANCES],
        "concepts": [{"value": ids[c], "label": names[c]} for c in top],
    }


# --- widok tabeli i eksport ------------------------------------------------------------------------------------------


def table_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Krawędzie z nazwami końców (etykiety, nie klucze) — wiersze tabeli strony i eksportu CSV."""
    nodes = {n["id"]: n for n in data["nodes"]}
    return [
        {**e, "source_node": nodes[e["source"]], "target_node": nodes[e["target"]]}
        for e in data["edges"]
        if e["source"] in nodes and e["target"] in nodes
    ]


def csv_export(data: dict[str, Any], *, absolute: Any) -> str:
    """CSV (z BOM, komórki odporne na formuły): jeden wiersz na dowód krawędzi, nagłówki w języku interfejsu."""
    header = [
        pgettext("concept graph", "From"),
        _("From (type)"),
        _("Connection"),
        pgettext("concept graph", "To"),
        _("To (type)"),
        _("Mean stance"),
        _("Stance"),
        _("Question"),
        _("Turn"),
        _("Speaker"),
        _("Quote"),
        _("Link to the transcript"),
    ]
    rows = []
    for e in table_rows(data):
        start = [
            e["source_node"]["label"],
            e["source_node"]["kind_label"],
            e["type_label"],
            e["target_node"]["label"] or "—",
            e["target_node"]["kind_label"],
            "" if e["stance"] is None else e["stance"],
            e["stance_label"],
        ]
        for item in e["evidence"] or [None]:
            if item is None:
                rows.append([*start, "", "", "", "", ""])
                continue
            question = item["question_index"]
            rows.append(
                [
                    *start,
                    "" if question is None else f"Q{question + 1}",
                    item["seq"],
                    item["name"],
                    item["quote"],
                    absolute(item["url"]),
                ]
            )
    return spreadsheet_csv(header, rows)
