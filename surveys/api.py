"""API ankiet: kreator (szkic, kopia, szablony), badanie (202 + zadanie, szacunek kosztu), wyniki i tabele krzyżowe."""

import uuid
from datetime import datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Query, Router, Schema
from ninja.pagination import paginate

from rag.grounding import SourceOut
from sight.errors import ErrorOut
from sight.models import Language, get_project_for_user
from sight.pagination import Pages
from surveys import exports, fielding, results, themes
from surveys.builder import (
    FromTemplateIn,
    SurveyIn,
    SurveyPatch,
    copy_survey,
    create_from_template,
    create_survey,
    delete_survey,
    template_list,
    update_survey,
)
from surveys.models import Survey, get_survey_for_user

router = Router(tags=["surveys"])


class QuestionOut(Schema):
    """Pytanie ankiety."""

    id: uuid.UUID
    number: int
    type: str
    text: str
    help_text: str
    required: bool
    options: list[dict[str, str]]
    settings: dict[str, Any]
    show_if: dict[str, Any]


class SurveyOut(Schema):
    """Ankieta z pytaniami."""

    id: uuid.UUID
    project_id: uuid.UUID
    name: str
    description: str
    language: str
    status: str
    seed: int
    use_knowledge: bool
    respondents: dict[str, Any]
    questions: list[QuestionOut]
    job_id: uuid.UUID | None
    validity: dict[str, Any]
    error: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @staticmethod
    def resolve_respondents(obj: Survey) -> dict[str, Any]:
        """Specyfikacja respondentów."""
        return obj.respondents_spec

    @staticmethod
    def resolve_questions(obj: Survey) -> list[Any]:
        """Pytania w kolejności (z wcześniej pobranej relacji)."""
        return sorted(obj.questions.all(), key=lambda q: q.order)


class TemplateOut(Schema):
    """Szablon ankiety w danym języku."""

    id: str
    label: str
    name: str
    questions: list[dict[str, Any]]


class JobAccepted(Schema):
    """Zadanie przyjęte."""

    job_id: uuid.UUID


def _survey(request: HttpRequest, survey_id: uuid.UUID) -> Survey:
    return get_survey_for_user(request.user, survey_id)


@router.post("/projects/{project_id}/surveys", response={201: SurveyOut})
def create(request: HttpRequest, project_id: uuid.UUID, payload: SurveyIn) -> tuple[int, Survey]:
    """Tworzy szkic ankiety w języku projektu."""
    return 201, create_survey(get_project_for_user(request.user, project_id), payload)


@router.post("/projects/{project_id}/surveys/from-template", response={201: SurveyOut})
def create_from(request: HttpRequest, project_id: uuid.UUID, payload: FromTemplateIn) -> tuple[int, Survey]:
    """Tworzy szkic z szablonu (w języku projektu)."""
    return 201, create_from_template(get_project_for_user(request.user, project_id), payload)


@router.get("/projects/{project_id}/surveys", response=list[SurveyOut])
@paginate(Pages, page_size=25)
def list_surveys(request: HttpRequest, project_id: uuid.UUID) -> Any:
    """Ankiety projektu, od najnowszych."""
    project = get_project_for_user(request.user, project_id)
    return Survey.objects.filter(project=project).prefetch_related("questions").order_by("-created_at")


@router.get("/survey-templates", response=list[TemplateOut])
def survey_templates(request: HttpRequest, language: Language = Language.PL) -> list[dict[str, Any]]:
    """Szablony kreatora: test koncepcji, NPS z uzasadnieniem, Van Westendorp, postrzeganie marki."""
    return template_list(language)


@router.get("/surveys/{survey_id}", response=SurveyOut)
def detail(request: HttpRequest, survey_id: uuid.UUID) -> Survey:
    """Jedna ankieta."""
    return _survey(request, survey_id)


@router.patch("/surveys/{survey_id}", response={200: SurveyOut, 409: ErrorOut})
def update(request: HttpRequest, survey_id: uuid.UUID, payload: SurveyPatch) -> Survey:
    """Zmienia szkic (wystawiona ankieta: 409, trzeba ją skopiować)."""
    return update_survey(_survey(request, survey_id), payload)


@router.delete("/surveys/{survey_id}", response={204: None, 409: ErrorOut})
def delete(request: HttpRequest, survey_id: uuid.UUID) -> tuple[int, None]:
    """Usuwa ankietę, która nie jest w trakcie badania."""
    delete_survey(_survey(request, survey_id))
    return 204, None


@router.post("/surveys/{survey_id}/copy", response={201: SurveyOut})
def copy(request: HttpRequest, survey_id: uuid.UUID) -> tuple[int, Survey]:
    """Kopia ankiety jako nowy szkic (tak zmienia się wystawioną ankietę)."""
    return 201, copy_survey(_survey(request, survey_id))


@router.get("/surveys/{survey_id}/estimate")
def estimate(request: HttpRequest, survey_id: uuid.UUID) -> dict[str, Any]:
    """Szacunkowy koszt badania (wywołania, tokeny, USD) i czy mieści się w budżecie projektu."""
    return fielding.estimate_cost(_survey(request, survey_id))


@router.post("/surveys/{survey_id}/run", response={202: JobAccepted, 409: ErrorOut})
def run(request: HttpRequest, survey_id: uuid.UUID) -> tuple[int, dict[str, Any]]:
    """Startuje (albo wznawia po błędzie) badanie w tle."""
    job = fielding.start_run(_survey(request, survey_id), user=request.user)
    return 202, {"job_id": job.id}


@router.get("/surveys/{survey_id}/results")
def survey_results(request: HttpRequest, survey_id: uuid.UUID) -> dict[str, Any]:
    """Wyniki per pytanie: baza, liczności i %, średnia, mediana, SD, top/bottom-2-box, NPS, Van Westendorp."""
    return results.survey_results(_survey(request, survey_id))


@router.get("/surveys/{survey_id}/crosstab")
def crosstab(
    request: HttpRequest,
    survey_id: uuid.UUID,
    question: uuid.UUID,
    by: results.Category = "gender",
) -> dict[str, Any]:
    """Tabela banerowa: % kolumnowe z bazami, chi-kwadrat, V Craméra, litery istotności."""
    survey = _survey(request, survey_id)
    q = get_object_or_404(survey.questions, pk=question)
    return results.survey_crosstab(survey, q, by)


@router.get("/surveys/{survey_id}/export")
def export(
    request: HttpRequest, survey_id: uuid.UUID, format: str = Query("csv", pattern="^(csv|json|xlsx|sav)$")
) -> HttpResponse:  # noqa: A002 - nazwa parametru w API
    """Odpowiedzi respondentów: CSV (wiersz na respondenta, etykiety, bezpieczny dla arkuszy), JSON, XLSX z księgą
    kodów albo SPSS `.sav` z etykietami zmiennych i wartości."""
    return exports.export(_survey(request, survey_id), format)


@router.post("/surveys/{survey_id}/questions/{question_id}/themes", response={202: JobAccepted, 409: ErrorOut})
def code_themes(request: HttpRequest, survey_id: uuid.UUID, question_id: uuid.UUID) -> tuple[int, dict[str, Any]]:
    """Koduje (od nowa) tematy odpowiedzi na pytanie otwarte w tle; wynik w `results` pytania (`themes`)."""
    question = get_object_or_404(_survey(request, survey_id).questions, pk=question_id)
    return 202, {"job_id": themes.start_coding(question, user=request.user, regenerate=True).id}


class AnswerOut(Schema):
    """Odpowiedź persony z pochodzeniem: fragmenty podane modelowi i przyjęte cytaty."""

    id: int
    question_id: uuid.UUID
    persona_id: uuid.UUID
    value: Any = None
    text: str
    failed: bool
    supplied_chunk_ids: list[int]
    sources: list[SourceOut]
    rejected_sources: int


@router.get("/surveys/{survey_id}/answers", response=list[AnswerOut])
@paginate(Pages, page_size=50)
def answers(request: HttpRequest, survey_id: uuid.UUID) -> Any:
    """Odpowiedzi ankiety (stronicowane, w kolejności pytań) z cytowanymi fragmentami dokumentów."""
    return _survey(request, survey_id).answers.order_by("question__order", "id")
