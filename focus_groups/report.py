"""Raport grupy fokusowej dla klienta (Markdown, z którego powstaje też PDF) w języku badania.

Kolejność: metryka (data, metoda, model albo demo offline, uwaga o respondentach syntetycznych), przewodnik,
uczestnicy z demografią (etykiety, nie klucze danych), podsumowanie z cytowaniami, statystyki jako tabele i
transkrypcja z numerami wypowiedzi. Tekst użytkowników i modelu jest dosłowny (`markdown_text`).
"""

from __future__ import annotations

from typing import Any

from django.utils import formats, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from focus_groups.models import FocusGroup, FocusGroupEvent
from focus_groups.summary import markdown_text, statistics, transcript
from sight.demographics import bucket_label
from sight.models import LLMCall

Kind = FocusGroupEvent.Kind
RUN_ROLES = ("moderator", "focus_group_turn", "stance")
STANCE_ORDER = ("support", "neutral", "oppose")


def markdown_report(fg: FocusGroup) -> str:
    """Cały raport w Markdown, w języku projektu (nagłówki, etykiety i daty też)."""
    with translation.override(fg.project.language):
        sections = [
            _header(fg),
            _guide(fg),
            _participants(fg),
            _summary(fg),
            _statistics(fg),
            _transcript(fg),
        ]
    return "\n".join(line for section in sections for line in [*section, ""])


def _header(fg: FocusGroup) -> list[str]:
    md = markdown_text
    finished = fg.finished_at or fg.updated_at
    lines = [f"# {md(fg.name)}", ""]
    if fg.description:
        lines += [md(fg.description, inline=False), ""]
    lines += [
        f"**{_('Date')}:** {formats.date_format(finished, 'DATE_FORMAT')}",
        "",
        f"**{_('Method')}:** {_method(fg)}",
        "",
        f"**{_('Model')}:** {_model(fg)}",
        "",
        f"**{_('Synthetic respondents')}:** "
        + _(
            "the participants are AI-generated personas modelled on the target market, not real people. Treat the "
            "findings as well-grounded hypotheses to test with real customers."
        ),
    ]
    return lines


def _method(fg: FocusGroup) -> str:
    if fg.mode == FocusGroup.Mode.INTERVIEWS:
        return _("independent interviews (each participant answers every question separately)")
    return ngettext(
        "moderated group discussion, %(n)d turn per question",
        "moderated group discussion, %(n)d turns per question",
        fg.turns_per_question,
    ) % {"n": fg.turns_per_question}


def _model(fg: FocusGroup) -> str:
    """Modele i dostawcy, którzy naprawdę odpowiadali w przebiegu; dostawca offline to demo, nie badanie."""
    used = sorted(
        set(
            LLMCall.objects.filter(job__params__focus_group_id=str(fg.id), role__in=RUN_ROLES).values_list(
                "provider", "model"
            )
        )
    )
    if not used:
        return _("not run yet")
    if all(provider == "offline" for provider, _name in used):
        return _("offline demo (deterministic answers without a language model; not research results)")
    return ", ".join(f"{markdown_text(model)} ({markdown_text(provider)})" for provider, model in used)


def _guide(fg: FocusGroup) -> list[str]:
    md = markdown_text
    lines = [f"## {_('Discussion guide')}", ""]
    for i, question in enumerate(fg.questions, start=1):
        lines.append(f"- **Q{i}.** {md(question.get('text', ''))}")
        if question.get("proposition"):
            lines.append(f"  - {_('Proposition')}: {md(question['proposition'])}")
        lines += [f"  - {_('Probe')}: {md(probe)}" for probe in question.get("probes", [])]
    return lines


def _participants(fg: FocusGroup) -> list[str]:
    md = markdown_text
    header = [_("Full name"), _("Age"), _("Gender"), _("Occupation"), _("Place of residence"), _("Segment")]
    lines = [f"## {_('Participants')}", "", _row(header), _row(["---"] * len(header))]
    links = fg.participant_links.select_related("persona__segment").order_by("persona__full_name")
    for link in links:
        p = link.persona
        lines.append(
            _row(
                [
                    md(p.full_name),
                    str(p.age or "–"),
                    md(bucket_label("gender", p.gender)) or "–",
                    md(p.occupation) or "–",
                    md(bucket_label("location", p.location)) or "–",
                    md(p.segment.name) if p.segment_id and p.segment else "–",
                ]
            )
        )
    return lines


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _summary(fg: FocusGroup) -> list[str]:
    md = markdown_text
    summary = fg.summary or {}
    lines = [f"## {_('Summary')}", ""]
    if not summary:
        return [*lines, _("No summary has been generated yet.")]

    def cited(items: list[dict[str, Any]]) -> list[str]:
        return [
            f"- {md(i['text'])} ({_('turns')} {', '.join(f'#{int(c)}' for c in i['citations'])})" for i in items
        ] or ["- –"]

    lines += [md(summary.get("executive_summary", ""), inline=False), ""]
    lines += [f"### {_('Key insights')}", "", *cited(summary.get("key_insights", [])), ""]
    lines += [f"### {_('Surprising findings')}", "", *cited(summary.get("surprising_findings", [])), ""]
    lines += [f"### {_('Segment differences')}", ""]
    lines += [f"- {md(d)}" for d in summary.get("segment_differences", [])] or ["- –"]
    lines += ["", f"### {_('Recommendations')}", ""] + [f"- {md(r)}" for r in summary.get("recommendations", [])]
    lines += ["", f"### {_('Sentiment')}", "", md(summary.get("sentiment_narrative", ""), inline=False)]
    return lines


def _statistics(fg: FocusGroup) -> list[str]:
    md = markdown_text
    stats = statistics(fg)
    lines = [f"## {_('Statistics')}", "", f"### {_('Participation')}", ""]
    lines += [_row([_("Participant"), _("Turns"), _("Words")]), _row(["---", "---:", "---:"])]
    lines += [_row([md(p["name"]), str(p["turns"]), str(p["words"])]) for p in stats["participation"]]
    lines += ["", f"### {_('Turn length')}", "", _row([_("Words"), _("Turns")]), _row(["---", "---:"])]
    lines += [_row([b["range"], str(b["count"])]) for b in stats["turn_lengths"]]
    # Stanowiska tylko wobec tez; pytanie przerwane w połowie pokazuje same odczyty „przed”.
    shifts = [s for s in stats["stance_shifts"] if s["compared"] or s.get("before_count")]
    if shifts:
        labels = {"support": _("support"), "neutral": _("neutral"), "oppose": _("oppose")}
        header = [_("Proposition"), _("Compared"), _("Changed")]
        header += [f"{labels[s]} ({_('before')} / {_('after')})" for s in STANCE_ORDER]
        lines += ["", f"### {_('Stances before and after')}", "", _row(header), _row(["---"] + ["---:"] * 5)]
        for s in shifts:
            after = {k: str(s["after"].get(k, 0)) if s["compared"] else "–" for k in STANCE_ORDER}
            counts = [f"{s['before'].get(k, 0)} / {after[k]}" for k in STANCE_ORDER]
            label = f"Q{s['index'] + 1}: {md(s.get('proposition') or '')}"
            lines.append(_row([label, str(s["compared"]), str(s["changed"]), *counts]))
    return lines


def _transcript(fg: FocusGroup) -> list[str]:
    md = markdown_text
    lines = [f"## {_('Transcript')}", ""]
    for group in transcript(fg):
        title = md(group["question"]) if group["index"] is not None else _("Outside the guide's questions")
        number = f"Q{group['index'] + 1}. " if group["index"] is not None else ""
        lines += [f"### {number}{title}", ""]
        if group.get("proposition"):
            lines += [f"**{_('Proposition')}:** {md(group['proposition'])}", ""]
        for e in group["events"]:
            if e["kind"] not in (Kind.MODERATOR, Kind.TURN, Kind.ANSWER, Kind.INTERJECTION):
                continue
            speaker = e["payload"].get("persona_name") or (
                _("Researcher") if e["kind"] == Kind.INTERJECTION else _("Moderator")
            )
            lines += [f"**#{e['seq']} {md(speaker)}:** {md(e['payload'].get('text', ''), inline=False)}", ""]
    return lines
