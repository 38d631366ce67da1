"""Widoki HTML ankiet: lista, nowa z szablonu, edycja treści pytań, strona ankiety z badaniem na żywo, wyniki."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from pydantic import ValidationError

from rag.grounding import mark_deleted
from sight.errors import Conflict, InvalidInput, show_domain_error
from sight.models import get_project_for_user
from sight.screens import render_screen
from surveys import charts, fielding, results, themes
from surveys.builder import (
    FromTemplateIn,
    SurveyPatch,
    copy_survey,
    create_from_template,
    field_label,
    move_question,
    template_list,
    update_survey,
)
from surveys.human_views import human_card
from surveys.models import Question, Survey, get_survey_for_user


def _error(exc: Conflict | InvalidInput) -> str:
    return f"{field_label(exc.field)}: {exc.message}" if isinstance(exc, InvalidInput) else str(exc)


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
        data["help_text"] = post.get(f"q{q.order}-help_text", q.help_text)
        # Pole wyboru nie wysyła nic, gdy jest odznaczone: znacznik mówi, że formularz je pokazał.
        shown = f"q{q.order}-required-shown" in post
        data["required"] = f"q{q.order}-required" in post if shown else q.required
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


def _move(post: Any) -> tuple[int, int] | None:
    """Przycisk „w górę” / „w dół” formularza (`move=<indeks>:up|down`) jako (indeks pytania, przesunięcie)."""
    index, _sep, direction = post.get("move", "").partition(":")
    if not index.isdigit() or direction not in ("up", "down"):
        return None
    return int(index), -1 if direction == "up" else 1


@login_required
def survey_edit(request: HttpRequest, survey_id: uuid.UUID) -> HttpResponse:
    """Edycja nazwy, treści, pomocy, obowiązkowości, opcji i kolejności pytań szkicu (bez JavaScriptu, z htmx —
    przesunięcie odświeża sam edytor); wystawionej ankiety się nie zmienia.
    """
    survey = get_survey_for_user(request.user, survey_id)
    error = ""
    if request.method == "POST":
        move = _move(request.POST)
        try:
            name = request.POST.get("name") or survey.name
            questions = _edited_questions(survey, request.POST)
            if move:
                questions = move_question(questions, *move)
            # Słowniki, nie obiekty QuestionIn: walidacja ninja czyta atrybuty po aliasie (`construct`).
            patch = SurveyPatch.model_validate(
                {"name": name, "questions": questions, "use_knowledge": bool(request.POST.get("use_knowledge"))}
            )
            update_survey(survey, patch)
        except (Conflict, InvalidInput) as exc:
            error = _error(exc)
        except ValidationError as exc:
            error = str(exc)
        else:
            if move and not request.htmx:
                return redirect(f"{reverse('surveys:edit', args=[survey.id])}#q{sum(move)}")
            if not move:
                messages.success(request, _("Survey saved."))
                return redirect("surveys:detail", survey.id)
            survey.refresh_from_db()
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


@login_required
def survey_results(request: HttpRequest, survey_id: uuid.UUID) -> HttpResponse:
    """Wyniki: rozkłady per pytanie i tabela krzyżowa z literami istotności, każde jako wykres SVG z tabelą danych."""
    survey = get_survey_for_user(request.user, survey_id)
    data = results.survey_results(survey)
    for question in data["questions"]:
        question["chart"] = charts.distribution_chart(question)
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
        "table_chart": charts.crosstab_chart(table, dict(results.category_choices())[by]) if table else None,
    }
    return render_screen(request, "surveys/results.html", "crosstab", context)


@login_required
@require_POST
def question_themes(request: HttpRequest, survey_id: uuid.UUID, question_id: uuid.UUID) -> HttpResponse:
    """Startuje kodowanie tematów pytania otwartego; wynik pojawia się na stronie wyników."""
    survey = get_survey_for_user(request.user, survey_id)
    question = get_object_or_404(survey.questions, pk=question_id)
    try:
        themes.start_coding(question, user=request.user, regenerate=True)
    except Conflict as exc:
        show_domain_error(request, exc)
    else:
        messages.success(request, _("Coding themes in the background; refresh the page in a moment."))
    return redirect(f"{reverse('surveys:results', args=[survey.id])}#themes-{question.id}")


@login_required
def survey_answers(request: HttpRequest, survey_id: uuid.UUID) -> HttpResponse:
    """Odpowiedzi po kolei (stronicowane) ze źródłami: cytowane fragmenty dokumentów z linkiem do fragmentu."""
    survey = get_survey_for_user(request.user, survey_id)
    answers = survey.answers.select_related("question", "persona").order_by(
        "question__order", "persona__full_name", "id"
    )
    page = Paginator(answers, 25).get_page(request.GET.get("page"))
    sources = mark_deleted(s for answer in page for s in answer.sources)
    rows, at = [], 0
    for answer in page:
        rows.append(
            {
                "answer": answer,
                "label": fielding.answer_label(answer.question, answer),
                "sources": sources[at : at + len(answer.sources)],
            }
        )
        at += len(answer.sources)
    context = {"survey": survey, "project": survey.project, "page": page, "rows": rows}
    return render(request, "surveys/answers.html", context)
