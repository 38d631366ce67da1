"""Po przebiegu: transkrypcja (filtry), statystyki udziału i zmian stanowisk, podsumowanie z cytowaniami, eksporty."""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from typing import Any

from django.db.models import Q
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop
from pydantic import BaseModel, Field, model_validator

from focus_groups.models import FocusGroup, FocusGroupEvent
from sight import jobs, llm
from sight.errors import Conflict
from sight.models import Job, User
from sight.text import spreadsheet_csv

Kind = FocusGroupEvent.Kind
SPOKEN = (Kind.TURN, Kind.ANSWER)
LENGTH_BUCKETS = ((0, 20), (21, 50), (51, 100), (101, 200), (201, 10**6))


# --- transkrypcja i statystyki -------------------------------------------------------------------------------------


def transcript(
    fg: FocusGroup, *, q: str = "", persona: str = "", question: int | None = None, stance: str = ""
) -> list[dict[str, Any]]:
    """Wypowiedzi (moderator, uczestnicy, wtrącenia) i stanowiska wobec tez pogrupowane po pytaniu, z filtrami: tekst,
    persona, pytanie, stanowisko po pytaniu. Stanowiska przy pytaniach bez tezy (stare grupy) pomijamy.
    """
    events = fg.events.filter(
        Q(kind__in=(Kind.QUESTION, Kind.MODERATOR, Kind.TURN, Kind.ANSWER, Kind.INTERJECTION))
        | Q(kind=Kind.STANCE, question_index__in=proposition_indexes(fg))
    ).order_by("seq")
    if question is not None:
        events = events.filter(question_index=question)
    if persona:
        events = events.filter(persona_id=persona)
    if q:
        events = events.filter(payload__text__icontains=q)
    if stance:
        # Stanowisko liczy się tylko w pytaniach z tezą (stare grupy miały je też przy pytaniach otwartych).
        holders = fg.events.filter(
            kind=Kind.STANCE,
            payload__when="after",
            payload__stance=stance,
            question_index__in=proposition_indexes(fg),
        ).values_list("persona_id", "question_index")
        allowed = {(str(p), qi) for p, qi in holders}
        return _group([e for e in events if e.kind in SPOKEN and (str(e.persona_id), e.question_index) in allowed], fg)
    return _group(list(events), fg)


def _group(events: list[FocusGroupEvent], fg: FocusGroup) -> list[dict[str, Any]]:
    questions, propositions = fg.question_texts(), fg.propositions()
    groups: dict[int | None, list[dict[str, Any]]] = defaultdict(list)
    for event in events:
        groups[event.question_index].append(event.as_dict())
    return [
        {
            "index": qi,
            "question": questions[qi] if qi is not None and qi < len(questions) else "",
            "proposition": propositions[qi] if qi is not None and qi < len(propositions) else "",
            "events": items,
        }
        for qi, items in sorted(groups.items(), key=lambda kv: (kv[0] is None, kv[0] or 0))
    ]


def proposition_indexes(fg: FocusGroup) -> list[int]:
    """Numery pytań z tezą — jedynych, w których stanowiska coś znaczą."""
    return [qi for qi, proposition in enumerate(fg.propositions()) if proposition]


def statistics(fg: FocusGroup) -> dict[str, Any]:
    """Udział (tury i słowa na personę, rozkład długości wypowiedzi) i zmiany stanowisk wobec tezy przed/po każdym
    pytaniu z tezą (jedno zapytanie).
    """
    rows = list(
        fg.events.filter(kind__in=(*SPOKEN, Kind.STANCE)).values_list("kind", "persona_id", "question_index", "payload")
    )
    people: dict[str, dict[str, Any]] = {}
    lengths: list[int] = []
    stances: dict[tuple[int, str], dict[str, str]] = defaultdict(dict)
    for kind, persona_id, qi, payload in rows:
        pid = str(persona_id)
        entry = people.setdefault(
            pid, {"persona_id": pid, "name": payload.get("persona_name", ""), "turns": 0, "words": 0}
        )
        if kind in SPOKEN:
            words = len(str(payload.get("text", "")).split())
            entry["turns"] += 1
            entry["words"] += words
            lengths.append(words)
        else:
            stances[(qi, pid)][payload.get("when", "")] = payload.get("stance", "")
    return {
        "participation": sorted(people.values(), key=lambda p: -p["turns"]),
        "turn_lengths": _length_histogram(lengths),
        "stance_shifts": _shifts(fg, stances),
        "total_turns": len(lengths),
    }


def _length_histogram(lengths: list[int]) -> list[dict[str, Any]]:
    return [
        {"range": f"{low}–{high}" if high < 10**6 else f"{low}+", "count": sum(low <= n <= high for n in lengths)}
        for low, high in LENGTH_BUCKETS
    ]


def _shifts(fg: FocusGroup, stances: dict[tuple[int, str], dict[str, str]]) -> list[dict[str, Any]]:
    """Stanowiska wobec tezy per pytanie z tezą: rozkład przed i po (każdy z tylu odczytów, ile jest — pytanie
    zatrzymane w połowie ma tylko „przed”) i ile osób z oboma odczytami zmieniło zdanie. Pytania otwarte pomijamy.
    """
    questions, propositions, result = fg.question_texts(), fg.propositions(), []
    for qi in (i for i, proposition in enumerate(propositions) if proposition):
        readings = [v for (q, _), v in stances.items() if q == qi]
        before = [v["before"] for v in readings if v.get("before")]
        after = [v["after"] for v in readings if v.get("after")]
        pairs = [(v["before"], v["after"]) for v in readings if v.get("before") and v.get("after")]
        result.append(
            {
                "index": qi,
                "question": questions[qi],
                "proposition": propositions[qi],
                "changed": sum(b != a for b, a in pairs),
                "compared": len(pairs),
                "before_count": len(before),
                "after_count": len(after),
                "before": dict(Counter(before)),
                "after": dict(Counter(after)),
            }
        )
    return result


# --- podsumowanie --------------------------------------------------------------------------------------------------


class Insight(BaseModel):
    """Wniosek z numerami wypowiedzi, które go popierają."""

    text: str = Field(min_length=10, max_length=1000)
    citations: list[int] = Field(
        min_length=1, max_length=8, description="turn numbers shown in [brackets] in the transcript"
    )


class SummaryOut(BaseModel):
    """Podsumowanie dyskusji w języku projektu."""

    executive_summary: str = Field(min_length=80, max_length=5000)
    key_insights: list[Insight] = Field(min_length=2, max_length=8)
    surprising_findings: list[Insight] = Field(default_factory=list, max_length=5)
    segment_differences: list[str] = Field(default_factory=list, max_length=6)
    recommendations: list[str] = Field(min_length=1, max_length=8)
    sentiment_narrative: str = Field(min_length=20, max_length=3000)


def summary_schema(valid: frozenset[int]) -> type[SummaryOut]:
    """Schemat podsumowania, który odrzuca cytowania nieistniejących wypowiedzi (model dostaje wtedy ponowne
    pytanie).
    """

    class CitedSummary(SummaryOut):
        @model_validator(mode="after")
        def _citations_exist(self) -> CitedSummary:
            bad = sorted({c for i in [*self.key_insights, *self.surprising_findings] for c in i.citations} - valid)
            if bad:
                raise ValueError(
                    f"citations {bad} are not turn numbers of this transcript; cite only numbers shown in [brackets]"
                )
            return self

    return CitedSummary


def start_summary(fg: FocusGroup, *, user: User | None, regenerate: bool = False) -> Job:
    """Wstawia zadanie podsumowania (rola `summary`); `regenerate` omija cache."""
    if not fg.events.filter(kind__in=SPOKEN).exists():
        raise Conflict(_("There is nothing to summarise yet."))
    job = jobs.start_job(
        kind="focus_groups.summary",
        user=user,
        project=fg.project,
        params={"focus_group_id": str(fg.id), "regenerate": regenerate},
        queue="llm",
        total=1,
    )
    fg.summary_job = job
    fg.save(update_fields=["summary_job", "updated_at"])
    return job


def summarise(job: Job) -> dict[str, Any]:
    """Obsługa zadania `focus_groups.summary`: podsumowanie z cytowaniami sprawdzonymi względem zapisanych
    wypowiedzi.
    """
    fg = FocusGroup.objects.select_related("project").get(pk=job.params["focus_group_id"])
    spoken = list(fg.events.filter(kind__in=SPOKEN).select_related("persona__segment").order_by("seq"))
    lines, questions = [], fg.question_texts()
    for event in spoken:
        segment = event.persona.segment.name if event.persona and event.persona.segment else "-"
        q = (
            questions[event.question_index]
            if event.question_index is not None and event.question_index < len(questions)
            else ""
        )
        lines.append(
            f"[{event.seq}] (Q{(event.question_index or 0) + 1}: {q[:80]}) "
            f"{event.payload.get('persona_name', '')} [segment: {segment}]: {event.text}"
        )
    stats = statistics(fg)
    stats_text = "\n".join(
        [f"{p['name']}: {p['turns']} turns, {p['words']} words" for p in stats["participation"]]
        + [
            f"Q{s['index'] + 1} (proposition: {s['proposition']}): {s['changed']}/{s['compared']} changed stance"
            for s in stats["stance_shifts"]
        ]
        + [
            f"Q{s['index'] + 1} stances after: "
            + ", ".join(f"{k} {s['after'].get(k, 0)}" for k in ("support", "neutral", "oppose"))
            for s in stats["stance_shifts"]
            if s["compared"]
        ]
    )
    project = fg.project
    result = llm.generate(
        "summary",
        prompt="summary",
        language=project.language,
        schema=summary_schema(frozenset(e.seq for e in spoken)),
        project=project,
        job=job,
        cache=not job.params.get("regenerate"),
        variables={
            "project_name": project.name,
            "research_objectives": project.research_objectives or "-",
            "transcript": "\n".join(lines),
            "statistics": stats_text,
            "language_name": project.language_name,
        },
    )
    fg.summary = {
        **result.model_dump(),
        "generated_at": timezone.now().isoformat(),
        "model": llm.resolve("summary").model,
    }
    fg.save(update_fields=["summary", "updated_at"])
    jobs.report_progress(job, done=1, total=1, message=gettext_noop("Summary ready"))
    return {"focus_group_id": str(fg.id)}


# --- eksporty ------------------------------------------------------------------------------------------------------


def export(fg: FocusGroup, fmt: str) -> HttpResponse:
    """Raport Markdown albo PDF (podsumowanie, statystyki, transkrypcja), CSV wypowiedzi albo JSON zdarzeń."""
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    if fmt == "json":
        body = json.dumps(
            {
                "focus_group": {"id": str(fg.id), "name": fg.name, "mode": fg.mode, "questions": fg.questions},
                "events": [e.as_dict() for e in fg.events.order_by("seq")],
            },
            ensure_ascii=False,
            indent=1,
        )
        response = HttpResponse(body, content_type="application/json")
    elif fmt == "csv":
        response = HttpResponse(turns_csv(fg), content_type="text/csv; charset=utf-8")
    elif fmt == "md":
        from focus_groups.report import markdown_report

        response = HttpResponse(markdown_report(fg), content_type="text/markdown; charset=utf-8")
    else:
        from focus_groups.pdf import pdf_report
        from focus_groups.report import markdown_report

        response = HttpResponse(pdf_report(fg, markdown_report(fg)), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="focus-group-{fg.id}-{stamp}.{fmt}"'
    return response


CSV_COLUMNS = (
    "seq",
    "question_index",
    "question",
    "proposition",
    "kind",
    "persona_id",
    "persona_name",
    "text",
    "stance_before",
    "stance_after",
    "created_at",
)


def turns_csv(fg: FocusGroup) -> str:
    """CSV wypowiedzi z treścią pytania i jego tezą, wtrąceniami badacza i stanowiskiem mówiącego wobec tezy przed i
    po pytaniu (w pytaniach bez tezy stanowisk nie ma).

    Zaczyna się od BOM, bo Excel bez niego czyta plik jako ANSI i psuje polskie litery; komórki z tekstem są odporne
    na formuły (`spreadsheet_safe`).
    """
    questions, propositions = fg.question_texts(), fg.propositions()
    stances: dict[tuple[int | None, str], dict[str, str]] = defaultdict(dict)
    for persona_id, qi, payload in fg.events.filter(
        kind=Kind.STANCE, question_index__in=proposition_indexes(fg)
    ).values_list("persona_id", "question_index", "payload"):
        stances[(qi, str(persona_id))][payload.get("when", "")] = payload.get("stance", "")
    rows = []
    for e in fg.events.filter(kind__in=(Kind.MODERATOR, Kind.INTERJECTION, *SPOKEN)).order_by("seq"):
        qi = e.question_index
        stance = stances.get((qi, str(e.persona_id)), {}) if e.persona_id else {}
        speaker = e.payload.get("persona_name") or ("Researcher" if e.kind == Kind.INTERJECTION else "Moderator")
        question = questions[qi] if qi is not None and 0 <= qi < len(questions) else ""
        proposition = propositions[qi] if qi is not None and 0 <= qi < len(propositions) else ""
        rows.append(
            [
                e.seq,
                "" if qi is None else qi,
                question,
                proposition,
                e.kind,
                e.persona_id or "",
                speaker,
                e.text,
                stance.get("before", ""),
                stance.get("after", ""),
                e.created_at.isoformat(),
            ]
        )
    return spreadsheet_csv(CSV_COLUMNS, rows)


# Znaki, którymi tekst mógłby zacząć znacznik Markdown lub HTML w dowolnym miejscu wiersza (CommonMark pozwala
# poprzedzić ukośnikiem każdy znak interpunkcyjny ASCII), i początki bloków (nagłówek, cytat, lista, tabela, linia).
MD_INLINE = re.compile(r"([\\`*_\[\]<>|~&])")
MD_BLOCK_START = re.compile(r"^([#>+=-]|\d+(?=[.)]))")
MD_ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")


def markdown_text(value: object, *, inline: bool = True) -> str:
    """Tekst użytkownika lub modelu jako dosłowny tekst Markdown: surowy HTML, linki, obrazy i formatowanie nie
    działają. `inline` składa tekst w jeden wiersz (nagłówki, listy, komórki tabel); inaczej wiersze zostają, bez
    wcięć (wcięcie o 4 spacje byłoby blokiem kodu) i końcowych spacji (dwie spacje łamią wiersz)."""
    text = str(value or "")
    if inline:
        text = " ".join(text.split())
    lines = [
        MD_BLOCK_START.sub(_escape_block_start, MD_INLINE.sub(r"\\\1", line.strip())) for line in text.splitlines()
    ]
    return "\n".join(lines)


def _escape_block_start(match: re.Match[str]) -> str:
    # "1." zaczyna listę numerowaną: ucieczka należy się kropce, nie cyfrze (cyfry nie da się poprzedzić ukośnikiem).
    marker = match.group(1)
    return f"{marker}\\" if marker[0].isdigit() else f"\\{marker}"


def markdown_plain(text: str) -> str:
    """Odwrotność `markdown_text` dla PDF: usuwa ukośniki ucieczki."""
    return MD_ESCAPED.sub(r"\1", text)
