"""Wnioski z dyskusji liczone z zapisanych dowodów w PostgreSQL: kluczowe i sporne pojęcia, wpływ z zapisanych zmian
stanowisk, różnice segmentów, emocje, sieć zgody i niezgody; porównanie dwóch dyskusji.

Każda funkcja publiczna wykonuje stałą liczbę zapytań (`load` — sześć), niezależnie od liczby wypowiedzi; wzmianki
i emocje są sumowane raz przy wczytaniu per (pojęcie albo emocja, osoba, pytanie), więc dalsze liczenie idzie po
dziesiątkach grup, nie po tysiącach wzmianek.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, TextField
from django.db.models.fields.json import KT
from django.db.models.functions import Cast

import config
from focus_groups.models import ConceptMention, FocusGroup, FocusGroupEvent, TurnEmotion, TurnExtraction, TurnRelation

Kind = FocusGroupEvent.Kind
SPOKEN = (Kind.TURN, Kind.ANSWER)
STANCE_VALUE = {"oppose": -1, "neutral": 0, "support": 1}
SIDE = 0.25  # |średnie nastawienie| od tej wartości: zwolennik albo krytyk pojęcia
MOVED = 0.5  # różnica średniego nastawienia między dyskusjami, od której pojęcie „przesunęło się”
TOP = 10
QUOTES = 3
MIN_GROUPS_FOR_TESTS = 5  # poniżej tylu grup na stronę porównanie jest opisowe, bez testów istotności


def _text(field: str) -> Cast:
    """Identyfikator jako tekst już w SQL (bez budowania obiektów UUID dla każdego wiersza)."""
    return Cast(field, output_field=TextField())


@dataclass
class Evidence:
    """Zapisane dowody jednej grupy: uczestnicy, wypowiedzi, stanowiska, wzmianki i emocje zsumowane per (pojęcie albo
    emocja, osoba, pytanie), odniesienia między wypowiedziami.
    """

    fg: FocusGroup
    people: dict[str, dict[str, str]]
    turns: dict[int, dict[str, Any]]
    stances: dict[tuple[int, str], dict[str, tuple[int, int]]]
    concept_groups: list[dict[str, Any]]
    relations: list[dict[str, Any]]
    emotion_groups: list[dict[str, Any]]
    extraction: dict[str, int] = field(default_factory=dict)


def load(fg: FocusGroup) -> Evidence:
    """Wczytuje dowody grupy w sześciu zapytaniach bez złączeń z wypowiedziami; wzmianki i emocje od razu sumuje w
    grupy (liczba grup rośnie z liczbą pojęć, osób i pytań, nie wypowiedzi).
    """
    people = {
        pid: {"name": name, "segment": segment or ""}
        for pid, name, segment in fg.participant_links.values_list(
            _text("persona_id"), "persona__full_name", "persona__segment__name"
        )
    }
    turns: dict[int, dict[str, Any]] = {}
    stances: dict[tuple[int, str], dict[str, tuple[int, int]]] = defaultdict(dict)
    # Stanowisko znaczy coś tylko wobec tezy: odczyty przy pytaniach otwartych (stare grupy) pomijamy.
    with_proposition = {qi for qi, proposition in enumerate(fg.propositions()) if proposition}
    rows = fg.events.filter(kind__in=(*SPOKEN, Kind.STANCE)).order_by("seq")
    for eid, seq, kind, pid, qi, when, reading, addressed, agrees, disagrees in rows.values_list(
        "id",
        "seq",
        "kind",
        _text("persona_id"),
        "question_index",
        KT("payload__when"),
        KT("payload__stance"),
        KT("payload__addressed_to_id"),
        "payload__agrees_with",
        "payload__disagrees_with",
    ):
        if kind == Kind.STANCE:
            if pid is not None and qi in with_proposition and reading in STANCE_VALUE:
                stances[(qi, pid)][when or ""] = (STANCE_VALUE[reading], seq)
            continue
        turns[eid] = {
            "id": eid,
            "seq": seq,
            "persona_id": pid,
            "question_index": qi,
            "addressed_to": addressed,
            "agrees_with": [str(p) for p in agrees or []],
            "disagrees_with": [str(p) for p in disagrees or []],
        }
    concept_groups = _concept_groups(fg, turns)
    relations = list(TurnRelation.objects.filter(focus_group=fg).values("event_id", "target_id", "relation"))
    emotion_groups: dict[tuple[str, str | None, int | None], dict[str, Any]] = {}
    for event_id, emotion in TurnEmotion.objects.filter(focus_group=fg).values_list("event_id", "emotion").order_by():
        if turn := turns.get(event_id):
            key = (emotion, turn["persona_id"], turn["question_index"])
            group = emotion_groups.setdefault(key, {"emotion": emotion, "pid": key[1], "qi": key[2], "turns": 0})
            group["turns"] += 1
    extraction = dict(
        TurnExtraction.objects.filter(focus_group=fg).values_list("status").annotate(n=Count("id")).order_by()
    )
    return Evidence(fg, people, turns, stances, concept_groups, relations, list(emotion_groups.values()), extraction)


def _concept_groups(fg: FocusGroup, turns: dict[int, dict[str, Any]]) -> list[dict[str, Any]]:
    """Wzmianki zsumowane per (pojęcie, osoba, pytanie) z pierwszymi cytatami, z jednego płaskiego zapytania bez
    złączenia z wypowiedziami (te są już wczytane): na świeżo wypełnionych tabelach planista bez statystyk wybierał dla
    takiego złączenia pętlę zagnieżdżoną — ~150 ms przy 1500 wzmiankach.
    """
    rows = ConceptMention.objects.filter(focus_group=fg).values_list(
        "event_id", _text("concept_id"), "concept__key", "concept__name", "stance", "quote"
    )
    groups: dict[tuple[str, str | None, int | None], dict[str, Any]] = {}
    for event_id, concept_id, key, name, stance, quote in rows.order_by():
        turn = turns.get(event_id)
        if turn is None:  # wzmianka w zdarzeniu, które nie jest wypowiedzią, się nie liczy
            continue
        group_key = (concept_id, turn["persona_id"], turn["question_index"])
        group = groups.get(group_key)
        if group is None:
            group = groups[group_key] = {
                "cid": concept_id,
                "key": key,
                "name": name,
                "pid": turn["persona_id"],
                "qi": turn["question_index"],
                "mentions": 0,
                "stance_sum": 0.0,
                "first": [],
            }
        group["mentions"] += 1
        group["stance_sum"] += stance
        group["first"].append((turn["seq"], quote, stance))
    for group in groups.values():
        group["first"] = sorted(group["first"])[:QUOTES]
    return list(groups.values())


def _in(group: dict[str, Any], question: int | None) -> bool:
    return question is None or group["qi"] == question


def _name(ev: Evidence, persona_id: str | None) -> str:
    return ev.people.get(str(persona_id), {}).get("name", "") if persona_id else ""


# --- pojęcia ---------------------------------------------------------------------------------------------------------


def concept_table(ev: Evidence, question: int | None = None) -> list[dict[str, Any]]:
    """Pojęcia (w pytaniu albo całej dyskusji): wzmianki, zasięg (mówiący / wszyscy uczestnicy), średnie nastawienie
    i cytaty, od najczęstszych.
    """
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for g in ev.concept_groups:
        if _in(g, question):
            grouped[g["cid"]].append(g)
    total = len(ev.people)
    table = []
    for concept_id, groups in grouped.items():
        mentions = sum(g["mentions"] for g in groups)
        speakers = {g["pid"] for g in groups} - {None}
        table.append(
            {
                "concept_id": concept_id,
                "key": groups[0]["key"],
                "name": groups[0]["name"],
                "mentions": mentions,
                "participants": len(speakers),
                "reach_of": total,
                "reach": round(len(speakers) / total, 3) if total else 0.0,
                "stance": round(sum(g["stance_sum"] for g in groups) / mentions, 3),
                "quotes": sorted((q for g in groups for q in _quotes(ev, g)), key=lambda q: q["seq"])[:QUOTES],
            }
        )
    return sorted(table, key=lambda c: (-c["mentions"], -c["participants"], c["name"]))


def _quotes(ev: Evidence, group: dict[str, Any]) -> list[dict[str, Any]]:
    """Pierwsze cytaty grupy wzmianek (osoba, pytanie) z numerem wypowiedzi i nastawieniem."""
    name = _name(ev, group["pid"])
    return [
        {"seq": seq, "persona_id": group["pid"], "name": name, "quote": quote, "stance": stance}
        for seq, quote, stance in group["first"]
    ]


def _per_person(ev: Evidence, question: int | None) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """Grupy wzmianek pojęcie → osoba (tylko wypowiedzi uczestników) w pytaniu albo całej dyskusji."""
    by_concept: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for g in ev.concept_groups:
        if g["pid"] and _in(g, question):
            by_concept[g["cid"]][g["pid"]].append(g)
    return by_concept


def _person_stance(groups: list[dict[str, Any]]) -> float:
    return sum(g["stance_sum"] for g in groups) / sum(g["mentions"] for g in groups)


def controversial(ev: Evidence, question: int | None = None) -> list[dict[str, Any]]:
    """Pojęcia, które mają i zwolenników, i krytyków (średnie nastawienie osoby ≥ 0,25 / ≤ −0,25), po rozrzucie."""
    result = []
    for concept_id, per_person in _per_person(ev, question).items():
        sides = {pid: _person_stance(groups) for pid, groups in per_person.items()}
        supporters = [pid for pid, s in sides.items() if s >= SIDE]
        critics = [pid for pid, s in sides.items() if s <= -SIDE]
        if not supporters or not critics:
            continue

        def side(pids: list[str], sides: dict[str, float] = sides, per: Any = per_person) -> list[dict[str, Any]]:
            first = {pid: min((q for g in per[pid] for q in _quotes(ev, g)), key=lambda q: q["seq"]) for pid in pids}
            return [{**first[pid], "stance": round(sides[pid], 3)} for pid in sorted(pids, key=sides.get)]

        result.append(
            {
                "concept_id": concept_id,
                "name": next(iter(per_person.values()))[0]["name"],
                "spread": round(statistics.pstdev(sides.values()), 3),
                "participants": len(sides),
                "supporters": side(supporters)[::-1],
                "critics": side(critics),
            }
        )
    return sorted(result, key=lambda c: (-c["spread"], c["name"]))


# --- wpływ -----------------------------------------------------------------------------------------------------------


def influence(ev: Evidence, question: int | None = None) -> list[dict[str, Any]]:
    """Zmiany stanowisk z zapisanych odczytów przed i po pytaniu, każda z uczestnikami, którzy mogli ją wywołać.

    Wpływ przypisujemy tylko tym, na których wypowiedzi zmieniający odpowiedział (odniesienie z ekstrakcji) albo których
    nazwał (zwrócenie się, zgoda, niezgoda) między swoimi dwoma odczytami, i tylko gdy ich stanowisko przed pytaniem
    leży po tej stronie, w którą się przesunął. Dowodem są te wypowiedzi; żadnych wyników ze stopnia węzła.
    """
    answered: dict[int, set[int]] = defaultdict(set)
    propositions = ev.fg.propositions()
    for r in ev.relations:
        answered[r["event_id"]].add(r["target_id"])
    result = []
    for (qi, pid), readings in sorted(ev.stances.items(), key=lambda kv: (kv[0][0], _name(ev, kv[0][1]))):
        if (question is not None and qi != question) or "before" not in readings or "after" not in readings:
            continue
        (before, before_seq), (after, after_seq) = readings["before"], readings["after"]
        if before == after:
            continue
        direction = 1 if after > before else -1
        evidence: dict[str, list[int]] = defaultdict(list)
        for turn in ev.turns.values():
            if turn["persona_id"] != pid or turn["question_index"] != qi or not before_seq < turn["seq"] < after_seq:
                continue
            named = {turn["addressed_to"], *turn["agrees_with"], *turn["disagrees_with"]} - {None, pid}
            for other in named:
                evidence[str(other)].append(turn["seq"])
            for target_id in answered.get(turn["id"], ()):
                target = ev.turns.get(target_id)
                if target and target["persona_id"] and target["persona_id"] != pid:
                    evidence[target["persona_id"]] += [target["seq"], turn["seq"]]
        influencers = []
        for other, seqs in evidence.items():
            stance = ev.stances.get((qi, other), {}).get("before")
            if stance is not None and (stance[0] - before) * direction > 0:
                influencers.append(
                    {"persona_id": other, "name": _name(ev, other), "stance": stance[0], "turns": sorted(set(seqs))}
                )
        result.append(
            {
                "question_index": qi,
                "proposition": propositions[qi] if qi < len(propositions) else "",
                "persona_id": pid,
                "name": _name(ev, pid),
                "before": before,
                "after": after,
                "influencers": sorted(influencers, key=lambda i: (-len(i["turns"]), i["name"])),
            }
        )
    return result


# --- segmenty, emocje, sieć ------------------------------------------------------------------------------------------


def segment_differences(ev: Evidence, table: list[dict[str, Any]], question: int | None = None) -> list[dict[str, Any]]:
    """Dla najczęstszych pojęć: udział każdego segmentu, który je poruszył, średnie nastawienie i liczności."""
    sizes = Counter(p["segment"] for p in ev.people.values())
    top = {c["concept_id"] for c in table[:TOP]}
    raised: dict[tuple[str, str], set[str]] = defaultdict(set)
    mentions: Counter[tuple[str, str]] = Counter()
    stance_sums: Counter[tuple[str, str]] = Counter()
    for concept_id, per_person in _per_person(ev, question).items():
        if concept_id not in top:
            continue
        for pid, groups in per_person.items():
            if pid in ev.people:
                key = (concept_id, ev.people[pid]["segment"])
                raised[key].add(pid)
                mentions[key] += sum(g["mentions"] for g in groups)
                stance_sums[key] += sum(g["stance_sum"] for g in groups)

    def row(concept_id: str, segment: str, size: int) -> dict[str, Any]:
        key = (concept_id, segment)
        return {
            "segment": segment,
            "participants": size,
            "raised": len(raised[key]),
            "share": round(len(raised[key]) / size, 3),
            "mentions": mentions[key],
            "stance": round(stance_sums[key] / mentions[key], 3) if mentions[key] else None,
        }

    return [
        {
            "concept_id": c["concept_id"],
            "name": c["name"],
            "segments": [row(c["concept_id"], segment, size) for segment, size in sorted(sizes.items())],
        }
        for c in table[:TOP]
    ]


def emotion_profile(ev: Evidence, question: int | None = None, language: str = "en") -> list[dict[str, Any]]:
    """Emocje: w ilu przeanalizowanych wypowiedziach i u ilu osób wystąpiły (nazwy w języku interfejsu)."""
    labels = config.load_features().concepts.emotions
    analysed = sum(1 for t in ev.turns.values() if question is None or t["question_index"] == question)
    turns: Counter[str] = Counter()
    people: dict[str, set[str]] = defaultdict(set)
    for g in ev.emotion_groups:
        if _in(g, question):
            turns[g["emotion"]] += g["turns"]
            if g["pid"]:
                people[g["emotion"]].add(g["pid"])
    return sorted(
        (
            {
                "emotion": key,
                "label": getattr(labels[key], language, key) if key in labels else key,
                "turns": n,
                "of_turns": analysed,
                "participants": len(people[key]),
            }
            for key, n in turns.items()
        ),
        key=lambda e: (-e["turns"], e["emotion"]),
    )


def network(ev: Evidence, question: int | None = None) -> list[dict[str, Any]]:
    """Sieć zgody, niezgody i rozwinięć między uczestnikami: z nazwanych w wypowiedzi osób i z odniesień ekstrakcji."""
    edges: dict[tuple[str, str, str], set[int]] = defaultdict(set)
    for turn in ev.turns.values():
        if turn["persona_id"] and (question is None or turn["question_index"] == question):
            for relation, others in (("agree", turn["agrees_with"]), ("disagree", turn["disagrees_with"])):
                for other in others:
                    if other != turn["persona_id"]:
                        edges[(turn["persona_id"], other, relation)].add(turn["seq"])
    for r in ev.relations:
        turn, target = ev.turns.get(r["event_id"]), ev.turns.get(r["target_id"])
        if turn and target and (question is None or turn["question_index"] == question):
            if turn["persona_id"] and target["persona_id"] and turn["persona_id"] != target["persona_id"]:
                edges[(turn["persona_id"], target["persona_id"], r["relation"])].add(turn["seq"])
    return sorted(
        (
            {
                "from": a,
                "from_name": _name(ev, a),
                "to": b,
                "to_name": _name(ev, b),
                "relation": relation,
                "count": len(seqs),
                "turns": sorted(seqs),
            }
            for (a, b, relation), seqs in edges.items()
        ),
        key=lambda e: (-e["count"], e["from_name"], e["to_name"], e["relation"]),
    )


def coverage(ev: Evidence, question: int | None = None) -> dict[str, int]:
    """Mianowniki: wypowiedzi, przeanalizowane, pominięte, uczestnicy."""
    turns = [t for t in ev.turns.values() if question is None or t["question_index"] == question]
    return {
        "turns": len(turns),
        "analysed": ev.extraction.get(TurnExtraction.Status.DONE, 0),
        "skipped": ev.extraction.get(TurnExtraction.Status.SKIPPED, 0),
        "participants": len(ev.people),
    }


def insights(fg: FocusGroup, *, question: int | None = None, language: str = "en") -> dict[str, Any]:
    """Wszystkie wnioski grupy (jedno pytanie albo cała dyskusja) ze stałej liczby zapytań."""
    ev = load(fg)
    table = concept_table(ev, question)
    return {
        "focus_group_id": str(fg.id),
        "question": question,
        "questions": fg.question_texts(),
        "coverage": coverage(ev, question),
        "key_concepts": table[:TOP],
        "controversial": controversial(ev, question),
        "influence": influence(ev, question),
        "segments": segment_differences(ev, table, question),
        "emotions": emotion_profile(ev, question, language),
        "network": network(ev, question),
    }


# --- porównanie dwóch dyskusji ---------------------------------------------------------------------------------------


def _rates(ev: Evidence) -> dict[str, Any]:
    turns = len(ev.turns)
    shifts = sum(1 for r in ev.stances.values() if "before" in r and "after" in r and r["before"][0] != r["after"][0])
    compared = sum(1 for r in ev.stances.values() if "before" in r and "after" in r)
    disagreeing = {t["id"] for t in ev.turns.values() if t["disagrees_with"]} | {
        r["event_id"] for r in ev.relations if r["relation"] == TurnRelation.Relation.DISAGREE
    }

    def per_100(n: int) -> float | None:
        return round(100 * n / turns, 1) if turns else None

    return {
        "turns": turns,
        "analysed": ev.extraction.get(TurnExtraction.Status.DONE, 0),
        "skipped": ev.extraction.get(TurnExtraction.Status.SKIPPED, 0),
        "stance_shifts": shifts,
        "stance_readings": compared,
        "stance_shifts_per_100_turns": per_100(shifts),
        "disagreements": len(disagreeing),
        "disagreements_per_100_turns": per_100(len(disagreeing)),
    }


def _jaccard(a: set[str], b: set[str]) -> dict[str, Any]:
    union = a | b
    return {"shared": len(a & b), "union": len(union), "jaccard": round(len(a & b) / len(union), 3) if union else None}


def _cell(row: dict[str, Any] | None) -> dict[str, Any] | None:
    if row is None:
        return None
    quote = row["quotes"][0] if row["quotes"] else None
    keys = ("mentions", "participants", "reach_of", "reach", "stance")
    return {**{k: row[k] for k in keys}, "quote": quote}


def compare_tables(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> dict[str, Any]:
    """Pojęcie × {A, B} z tabel pojęć dwóch dyskusji (po kluczu kanonicznym), z podziałem: tylko A, tylko B, obie z
    przesuniętym nastawieniem.
    """
    by_a, by_b = {c["key"]: c for c in a}, {c["key"]: c for c in b}
    keys = sorted(by_a.keys() | by_b.keys(), key=lambda k: (-(by_a.get(k) or by_b[k])["mentions"], k))
    rows = [
        {"key": k, "name": (by_a.get(k) or by_b[k])["name"], "a": _cell(by_a.get(k)), "b": _cell(by_b.get(k))}
        for k in keys
    ]
    moved = [
        r["name"]
        for r in rows
        if r["a"] and r["b"] and r["a"]["stance"] is not None and r["b"]["stance"] is not None
        if abs(r["a"]["stance"] - r["b"]["stance"]) >= MOVED
    ]
    return {
        "rows": rows,
        "only_a": [r["name"] for r in rows if r["b"] is None],
        "only_b": [r["name"] for r in rows if r["a"] is None],
        "moved": moved,
        "overlap": _jaccard(set(by_a), set(by_b)),
    }


def key_concepts_by_reach(table: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Kluczowe pojęcia przebiegu do linii stabilności: `TOP` pojęć poruszonych przez najwięcej uczestników (przy
    remisie więcej wzmianek, potem nazwa).
    """
    return sorted(table, key=lambda c: (-c["participants"], -c["mentions"], c["name"]))[:TOP]


def stability(
    a: FocusGroup, b: FocusGroup, table_a: list[dict[str, Any]], table_b: list[dict[str, Any]]
) -> dict[str, Any]:
    """Linia stabilności dwóch przebiegów tego samego przewodnika z tymi samymi uczestnikami i innym ziarnem (ziarnem
    kolejności mówców jest identyfikator grupy): jaka część kluczowych pojęć obu przebiegów (po `TOP` według zasięgu)
    pada też w drugim przebiegu, z licznikami po obu stronach. Gdy warunki nie są spełnione — tylko powód.
    """
    reason = None
    if a.pk == b.pk:
        reason = "same_run"
    elif [" ".join(q.split()) for q in a.question_texts()] != [" ".join(q.split()) for q in b.question_texts()]:
        reason = "different_guide"
    elif {p.persona_id for p in a.participant_links.all()} != {p.persona_id for p in b.participant_links.all()}:
        reason = "different_participants"
    elif not table_a or not table_b:
        reason = "not_analysed"
    result: dict[str, Any] = {"applies": reason is None, "reason": reason, "top": TOP}
    if reason is not None:
        return result
    keys_a, keys_b = {c["key"] for c in table_a}, {c["key"] for c in table_b}
    top_a, top_b = key_concepts_by_reach(table_a), key_concepts_by_reach(table_b)
    recur_a, recur_b = sum(c["key"] in keys_b for c in top_a), sum(c["key"] in keys_a for c in top_b)
    total = len(top_a) + len(top_b)
    return {
        **result,
        "a": {"key_concepts": len(top_a), "recurring": recur_a},
        "b": {"key_concepts": len(top_b), "recurring": recur_b},
        "key_concepts": total,
        "recurring": recur_a + recur_b,
        "share": round((recur_a + recur_b) / total, 3),
        "percent": round(100 * (recur_a + recur_b) / total, 1),
    }


def compare(a: FocusGroup, b: FocusGroup) -> dict[str, Any]:
    """Porównanie dwóch dyskusji: per pytanie i całość, z mianownikami; przy jednej grupie na stronę bez testów."""
    ev_a, ev_b = load(a), load(b)
    questions_a, questions_b = a.question_texts(), b.question_texts()
    per_question = [
        {
            "index": qi,
            "question_a": questions_a[qi] if qi < len(questions_a) else "",
            "question_b": questions_b[qi] if qi < len(questions_b) else "",
            **compare_tables(concept_table(ev_a, qi), concept_table(ev_b, qi)),
        }
        for qi in range(max(len(questions_a), len(questions_b)))
    ]
    table_a, table_b = concept_table(ev_a), concept_table(ev_b)
    return {
        "a": {"focus_group_id": str(a.id), "name": a.name, "participants": len(ev_a.people), **_rates(ev_a)},
        "b": {"focus_group_id": str(b.id), "name": b.name, "participants": len(ev_b.people), **_rates(ev_b)},
        "whole": compare_tables(table_a, table_b),
        "top_overlap": _jaccard({c["key"] for c in table_a[:TOP]}, {c["key"] for c in table_b[:TOP]}),
        "stability": stability(a, b, table_a, table_b),
        "questions": per_question,
        "groups_per_side": 1,
        "min_groups_for_significance": MIN_GROUPS_FOR_TESTS,
        "significance": None,  # jedna grupa na stronę (< MIN_GROUPS_FOR_TESTS): opis, nie wnioskowanie
    }


# --- projekt ---------------------------------------------------------------------------------------------------------


def recurring_concepts(project: Any, *, limit: int = 20) -> dict[str, Any]:
    """Pojęcia, które wracają w grupach projektu: w ilu przeanalizowanych grupach padły (z mianownikiem), wzmianki,
    osoby (dwa zapytania).
    """
    analysed = FocusGroup.objects.filter(project=project, concept_mentions__isnull=False).distinct().count()
    rows = (
        ConceptMention.objects.filter(focus_group__project=project)
        .values("concept_id", "concept__name")
        .annotate(
            focus_groups=Count("focus_group", distinct=True),
            mentions=Count("id"),
            participants=Count("event__persona", distinct=True),
        )
        .order_by("-focus_groups", "-mentions", "concept__name")[:limit]
    )
    return {
        "focus_groups": analysed,
        "concepts": [
            {
                "concept_id": str(r["concept_id"]),
                "name": r["concept__name"],
                "focus_groups": r["focus_groups"],
                "of_focus_groups": analysed,
                "in_all": analysed > 0 and r["focus_groups"] == analysed,
                "mentions": r["mentions"],
                "participants": r["participants"],
            }
            for r in rows
        ],
    }
