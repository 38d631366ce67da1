"""Widoki HTML ankiet: lista, nowa z szablonu, edycja treści pytań, strona ankiety z badaniem na żywo, wyniki."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from pydantic import ValidationError

from sight.errors import Conflict, InvalidInput, show_domain_error
from sight.models import get_project_for_user
from sight.screens import bar_rows, render_screen
from sight.text import localized_number
from surveys import fielding, results
from surveys.builder import (
    FromTemplateIn,
    SurveyPatch,
    copy_survey,
    create_from_template,
    template_list,
    update_survey,
)
from surveys.human_views import human_card
from surveys.models import Question, Survey, get_survey_for_user


def _error(exc: Conflict | InvalidInput) -> str:
    return f"{exc.field}: {exc.message}" if isinstance(exc, InvalidInput) else str(exc)


@login_required
def survey_list(request: HttpRequest, project_id: uuid.UUID) -> HttpResponse:
    """Ankiety projektu, od najnowszych, po stronach."""
    project = get_project_for_user(request.user, project_id)
    surveys = Survey.objects.filter(project=project).order_by("-created_at")
    page = Paginator(surveys, 25).get_page(request.GET.get("page"))
    context = {"project": project, "surveys": page.object_list, "page": page}
    return render_screen(request, "surveys/list.html", "survey_list", context)


@login_required
def survey_create(request: HttpRequest, project_id: uuid.UUID) -> HttpResponse:
    """Nowa ankieta z szablonu w języku projektu; potem edycja treści pytań."""
    project = get_project_for_user(request.user, project_id)
    choices = template_list(project.language)
    error = ""
    if request.method == "POST":
        try:
            data = FromTemplateIn(template=request.POST.get("template", ""), name=request.POST.get("name") or None)
            survey = create_from_template(project, data)
        except (InvalidInput, ValueError) as exc:
            error = _error(exc) if isinstance(exc, InvalidInput) else _("Choose a template and a name.")
        else:
            return redirect("surveys:edit", survey.id)
    context = {"project": project, "templates": choices, "error": error}
    return render_screen(request, "surveys/form.html", "create_form", context, status=422 if error else 200)


def _edited_questions(survey: Survey, post: Any) -> list[dict[str, Any]]:
    """Pytania szkicu z formularza: nowa treść i etykiety opcji (po jednej w wierszu), reszta bez zmian."""
    edited = []
    for q in survey.questions.order_by("order"):
        data: dict[str, Any] = {"type": q.type, "text": post.get(f"q{q.order}-text", q.text)}
        data["help_text"], data["required"] = q.help_text, q.required
        data |= {k: v for k, v in q.settings.items()}
        if q.show_if:
            data["show_if"] = q.show_if
        if q.type in Question.WITH_OPTIONS:
            lines = [line.strip() for line in post.get(f"q{q.order}-options", "").splitlines() if line.strip()]
            old = [o["id"] for o in q.options]
            # Opcja na tej samej pozycji zachowuje identyfikator (reguły pomijania się do niego odwołują).
            data["options"] = [
                {"id": old[i] if i < len(old) else None, "label": label} for i, label in enumerate(lines)
            ]
        edited.append(data)
    return edited


@login_required
def survey_edit(request: HttpRequest, survey_id: uuid.UUID) -> HttpResponse:
    """Edycja nazwy, treści pytań i opcji szkicu (bez JavaScriptu); wystawionej ankiety się nie zmienia."""
    survey = get_survey_for_user(request.user, survey_id)
    error = ""
    if request.method == "POST":
        try:
            name = request.POST.get("name") or survey.name
            # Słowniki, nie obiekty QuestionIn: walidacja ninja czyta atrybuty po aliasie (`construct`).
            patch = SurveyPatch.model_validate({"name": name, "questions": _edited_questions(survey, request.POST)})
            update_survey(survey, patch)
        except (Conflict, InvalidInput) as exc:
            error = _error(exc)
        except ValidationError as exc:
            error = str(exc)
        else:
            messages.success(request, _("Survey saved."))
            return redirect("surveys:detail", survey.id)
    questions = [
        {"q": q, "options_text": "\n".join(o["label"] for o in q.options)} for q in survey.questions.order_by("order")
    ]
    context = {"survey": survey, "project": survey.project, "questions": questions, "error": error}
    return render_screen(request, "surveys/form.html", "edit_form", context, status=422 if error else 200)


@login_required
@require_POST
def survey_copy(request: HttpRequest, survey_id: uuid.UUID) -> HttpResponse:
    """Kopia ankiety jako szkic do zmian."""
    copy = copy_survey(get_survey_for_user(request.user, survey_id))
    return redirect("surveys:edit", copy.id)


@login_required
@require_POST
def survey_run(request: HttpRequest, survey_id: uuid.UUID) -> HttpResponse:
    """Startuje badanie; błąd stanu albo respondentów wraca jako komunikat na stronie ankiety."""
    survey = get_survey_for_user(request.user, survey_id)
    try:
        fielding.start_run(survey, user=request.user)
    except (Conflict, InvalidInput) as exc:
        show_domain_error(request, exc)
    return redirect("surveys:detail", survey.id)


@login_required
def survey_detail(request: HttpRequest, survey_id: uuid.UUID) -> HttpResponse:
    """Ankieta: pytania, respondenci, przycisk badania, postęp na żywo i karta trafności metody SSR."""
    survey = get_survey_for_user(request.user, survey_id)
    job = survey.job
    questions = list(survey.questions.order_by("order"))
    context = {
        "survey": survey,
        "project": survey.project,
        "questions": questions,
        "human": human_card(survey, questions),
        "respondent_count": survey.respondents.count(),
        "answer_count": survey.answers.filter(failed=False).count(),
        "failed_count": survey.answers.filter(failed=True).count(),
        "job": job.as_dict() if job else None,
        "job_live": bool(job and not job.is_final),
    }
    return render_screen(request, "surveys/detail.html", "survey_status", context)


def _result_rows(question: dict[str, Any]) -> list[dict[str, Any]]:
    """Słupki pytania: % opcji, punktów skali albo grup NPS (wartość już sformatowana)."""
    s = question["stats"]
    if "options" in s and s["options"] and "percent" in s["options"][0]:
        return bar_rows(((o["label"], o["percent"]) for o in s["options"]), scale=100)
    if "counts" in s and isinstance(s["counts"], list) and s["counts"] and isinstance(s["counts"][0], dict):
        return bar_rows(((localized_number(c["value"]), round(c["percent"], 1)) for c in s["counts"]), scale=100)
    if question["type"] == Question.Type.NPS and s.get("base"):
        groups = (("0–6", "detractors"), ("7–8", "passives"), ("9–10", "promoters"))
        return bar_rows(((label, round(s[key]["percent"], 1)) for label, key in groups), scale=100)
    return []


@login_required
def survey_results(request: HttpRequest, survey_id: uuid.UUID) -> HttpResponse:
    """Wyniki: rozkłady per pytanie (słupki z %) i tabela krzyżowa z literami istotności."""
    survey = get_survey_for_user(request.user, survey_id)
    data = results.survey_results(survey)
    for question in data["questions"]:
        question["bars"] = _result_rows(question)
    crossable = [q for q in survey.questions.order_by("order") if q.type in results.CROSSTAB_TYPES]
    wanted = request.GET.get("question")
    chosen = next((q for q in crossable if str(q.id) == wanted), crossable[0] if crossable else None)
    by = request.GET.get("by") if request.GET.get("by") in results.CATEGORIES else "gender"
    table = results.survey_crosstab(survey, chosen, by) if chosen else None
    context = {
        "survey": survey,
        "project": survey.project,
        "results": data,
        "crossable": crossable,
        "chosen": chosen,
        "by": by,
        "categories": results.category_choices(),
        "table": table,
    }
    return render_screen(request, "surveys/results.html", "crosstab", context)
