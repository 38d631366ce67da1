"""Widoki HTML porównania z próbą ludzką: przesłanie pliku, strona próby z formularzem przypisania i porównaniem,
usuwanie; karta na stronie ankiety (`human_card`).
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sight.errors import InvalidInput
from sight.screens import render_screen
from surveys import human, results
from surveys.models import HumanSample, Question, Survey, get_human_sample_for_user, get_survey_for_user

SAMPLE_TEMPLATE = "surveys/human_sample.html"


def human_card(survey: Survey, questions: list[Question]) -> dict[str, Any]:
    """Karta „Porównanie z próbą ludzką” na stronie ankiety: próby i linie trafności najnowszej przypisanej próby."""
    samples = list(human.samples_for(survey)[:10])
    latest = next((s for s in samples if s.status == HumanSample.Status.MAPPED), None)
    if latest is not None:
        latest = HumanSample.objects.defer("data").get(pk=latest.pk)  # z kolumnami, których lista nie czyta
        latest.survey = survey
    comparison = human.compare_sample(latest, questions) if latest else None
    return {"samples": samples, "latest": latest, "comparison": comparison}


@login_required
def human_upload(request: HttpRequest, survey_id: uuid.UUID) -> HttpResponse:
    """Przesłanie pliku z odpowiedziami ludzi; zły plik wraca przy formularzu z powodem (422)."""
    survey = get_survey_for_user(request.user, survey_id)
    error = ""
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            error = _("Choose a file.")
        else:
            try:
                sample = human.accept_upload(survey, upload)
            except InvalidInput as exc:
                error = str(exc.message)
            else:
                messages.success(request, _("The file was read. Check how its columns map to the questions."))
                return redirect("surveys:human_sample", survey.id, sample.id)
    context = {"survey": survey, "project": survey.project, "error": error}
    return render_screen(request, "surveys/human_upload.html", "upload_form", context, status=422 if error else 200)


def _posted_mapping(questions: list[Question], post: QueryDict) -> dict[str, Any]:
    """Przypisanie z formularza: kolumna pytania i kody (ukryte pola z kodem obok wyboru opcji albo punktu).

    Kody pokazane dla innej kolumny (albo kategorii segmentu) niż wybrana teraz odpadają: nowa dostanie propozycję.
    """
    mapped = []
    for q in questions:
        column = post.get(f"q-{q.id}-column", "")
        if not column:
            continue
        values = {}
        if post.get(f"q-{q.id}-shown") == column:
            values = _posted_codes(post, f"q-{q.id}")
        mapped.append({"question": str(q.id), "column": column, "values": values})
    segment = None
    if column := post.get("segment-column"):
        category = post.get("segment-category", "")
        same = post.get("segment-shown") == f"{column}|{category}"
        segment = {"column": column, "category": category, "values": _posted_codes(post, "segment") if same else {}}
    return {"questions": mapped, "segment": segment}


def _posted_codes(post: QueryDict, prefix: str) -> dict[str, str]:
    """Pary kod → cel z pól `PREFIX-code-N` i `PREFIX-value-N`."""
    codes = {}
    for key in post:
        if key.startswith(f"{prefix}-code-"):
            index = key.rsplit("-", 1)[-1]
            codes[post[key]] = post.get(f"{prefix}-value-{index}", "")
    return codes


def _mapping_rows(sample: HumanSample, questions: list[Question]) -> list[dict[str, Any]]:
    """Wiersze formularza: porównywalne pytanie, wybrana kolumna i jej kody z wybranym celem (propozycja dla nowej)."""
    saved = {m["question"]: m for m in (sample.mapping or {}).get("questions", [])}
    rows = []
    for q in questions:
        if q.type not in human.COMPARABLE:
            continue
        item = saved.get(str(q.id))
        column = sample.column(item["column"]) if item else None
        values = item["values"] if item else {}
        targets: list[tuple[str, str]] = []
        if q.type == Question.Type.SINGLE_CHOICE:
            targets = [(o["id"], o["label"]) for o in q.options]
        elif q.type == Question.Type.RATING:
            targets = [(str(p), str(p)) for p in range(1, q.points + 1)]
        codes = []
        if column and targets:
            codes = [{**v, "target": str(values.get(v["code"], ""))} for v in column["values"]]
        rows.append({"q": q, "column": column["name"] if column else "", "codes": codes, "targets": targets})
    return rows


def _segment_row(sample: HumanSample) -> dict[str, Any]:
    """Kolumna segmentu w formularzu: kategoria, kody z plikiem i grupy person do wyboru."""
    segment = (sample.mapping or {}).get("segment") or {}
    column = sample.column(segment["column"]) if segment.get("column") else None
    category = segment.get("category", "gender")
    groups = human.synthetic_groups(sample.survey, category) if column else []
    codes = [{**v, "target": segment["values"].get(v["code"], "")} for v in column["values"]] if column else []
    return {
        "column": column["name"] if column else "",
        "category": category,
        "codes": codes,
        "groups": [(g, human.group_label(category, g)) for g in groups],
    }


def _sample_context(sample: HumanSample, questions: list[Question], *, error: str = "") -> dict[str, Any]:
    return {
        "survey": sample.survey,
        "project": sample.survey.project,
        "sample": sample,
        "rows": _mapping_rows(sample, questions),
        "segment": _segment_row(sample),
        "categories": results.category_choices(),
        "comparison": human.compare_sample(sample, questions),
        "error": error,
    }


@login_required
def human_sample(request: HttpRequest, survey_id: uuid.UUID, sample_id: uuid.UUID) -> HttpResponse:
    """Próba ludzka: przypisanie kolumn do pytań (formularz) i porównanie z personami; POST zapisuje przypisanie."""
    sample = get_human_sample_for_user(request.user, survey_id, sample_id)
    questions = list(sample.survey.questions.order_by("order"))
    error, status, saved = "", 200, False
    if request.method == "POST":
        try:
            mapping = human.clean_mapping(sample, questions, _posted_mapping(questions, request.POST))
        except InvalidInput as exc:
            error, status = f"{exc.field}: {exc.message}", 422
        else:
            # Nowo wybrana kolumna dostaje propozycję kodów z etykiet.
            for item in mapping["questions"]:
                q = next(q for q in questions if str(q.id) == item["question"])
                column = sample.column(item["column"])
                if not item["values"] and column is not None:
                    item["values"] = human.propose_values(column, q)
            segment = mapping["segment"]
            if segment and not segment["values"]:
                segment["values"] = human.propose_groups(
                    sample.column(segment["column"]), sample.survey, segment["category"]
                )
            human.save_mapping(sample, mapping)
            if not request.htmx:
                messages.success(request, _("Mapping saved."))
                return redirect("surveys:human_sample", sample.survey_id, sample.id)
            saved = True
    context = {**_sample_context(sample, questions, error=error), "saved": saved}
    return render_screen(request, SAMPLE_TEMPLATE, "mapping", context, status=status)


@login_required
@require_POST
def human_delete(request: HttpRequest, survey_id: uuid.UUID, sample_id: uuid.UUID) -> HttpResponse:
    """Usuwa próbę ludzką."""
    sample = get_human_sample_for_user(request.user, survey_id, sample_id)
    sample.delete()
    messages.success(request, _("The human sample was deleted."))
    return redirect("surveys:detail", survey_id)
