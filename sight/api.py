"""JSON API `/api/v1/` (django-ninja): projekty, zadania, stan usług. Routery aplikacji dołączają się tutaj."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import OperationalError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import Field, NinjaAPI, Router, Schema
from ninja.errors import AuthenticationError
from ninja.openapi.schema import OpenAPISchema
from ninja.pagination import paginate
from pydantic import field_validator
from redis.exceptions import RedisError

from focus_groups.api import router as focus_groups_router
from personas.api import router as personas_router
from sight import health, jobs
from sight import projects as project_ops
from sight.auth import api_auth
from sight.demographics import DemographicsIn, demographics_errors, relative_to_shares
from sight.errors import Conflict, ErrorOut, InvalidInput, in_english
from sight.graph import GraphUnavailable
from sight.models import Language, Project, get_job_for_user, get_project_for_user
from sight.pagination import Pages
from sight.schemas import InputSchema, json_int, omittable
from sight.text import CleanText, RequiredText

log = logging.getLogger(__name__)
# Kody błędów dokumentowane w każdej operacji, której dotyczą (kształt zawsze `ErrorOut`); 409 deklaruje sama operacja.
ERROR_DESCRIPTIONS = {
    400: "The request body is not valid JSON.",
    401: "No credentials: log in or send Authorization: Bearer <token>.",
    404: "No such object, or it belongs to someone else.",
    409: "The object's state does not allow this.",
    422: "Invalid input; `detail` lists the fields (`loc`).",
    503: "A service (database, queue, graph) is unavailable; try again shortly.",
}


class SightAPI(NinjaAPI):
    """NinjaAPI, którego schemat OpenAPI opisuje każdy kod błędu, jaki operacja może zwrócić (także z handlerów)."""

    def get_openapi_schema(self, **kwargs: Any) -> OpenAPISchema:
        """Schemat ninja uzupełniony o odpowiedzi błędów wynikające z samej operacji (auth, ścieżka, wejście)."""
        schema = super().get_openapi_schema(**kwargs)
        schema["components"]["schemas"]["ErrorOut"] = ErrorOut.model_json_schema(
            ref_template="#/components/schemas/{model}"
        )
        error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}}
        for path, operations in schema["paths"].items():
            for operation in operations.values():
                statuses = {503}
                if operation.get("security"):
                    statuses.add(401)
                if "{" in path:
                    statuses.add(404)
                if operation.get("parameters") or operation.get("requestBody"):
                    statuses.add(422)
                if operation.get("requestBody"):
                    statuses.add(400)
                for status in sorted(statuses - set(operation["responses"])):
                    operation["responses"][status] = {"description": ERROR_DESCRIPTIONS[status], **error}
        return schema


api = SightAPI(title="Sight API", version="1", urls_namespace="api", auth=api_auth, docs_url="/docs")


@api.exception_handler(GraphUnavailable)
def graph_unavailable(request: HttpRequest, exc: GraphUnavailable) -> HttpResponse:
    """Graf niedostępny: 503 z czytelnym komunikatem; reszta API działa."""
    return api.create_response(request, {"detail": f"The concept graph is unavailable: {exc}"}, status=503)


@api.exception_handler(DjangoValidationError)
def django_validation_error(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
    """Błędy walidacji modelu jako 422 z komunikatami przy polach."""
    if hasattr(exc, "error_dict"):
        detail = [
            {"loc": ["body", "payload", field], "msg": msg, "type": "value_error"}
            for field, msgs in exc.message_dict.items()
            for msg in msgs
        ]
    else:
        detail = [{"loc": ["body"], "msg": msg, "type": "value_error"} for msg in exc.messages]
    return api.create_response(request, {"detail": detail}, status=422)


@api.exception_handler(InvalidInput)
def invalid_input(request: HttpRequest, exc: InvalidInput) -> HttpResponse:
    """Niepoprawne pole wykryte przez logikę domenową: 422 z `loc` jak w walidacji schematu."""
    detail = [{"loc": ["body", exc.field], "msg": in_english(exc), "type": "value_error"}]
    return api.create_response(request, {"detail": detail}, status=InvalidInput.status)


@api.exception_handler(Conflict)
def conflict(request: HttpRequest, exc: Conflict) -> HttpResponse:
    """Operacja niemożliwa w obecnym stanie obiektu: 409."""
    return api.create_response(request, {"detail": in_english(exc)}, status=Conflict.status)


@api.exception_handler(OperationalError)
def database_unavailable(request: HttpRequest, exc: OperationalError) -> HttpResponse:
    """Baza chwilowo niedostępna: 503 w JSON, bez śladu stosu."""
    log.warning("database unavailable for %s: %s", request.path, exc)
    return api.create_response(request, {"detail": "The database is unavailable; try again shortly."}, status=503)


@api.exception_handler(RedisError)
def redis_unavailable(request: HttpRequest, exc: RedisError) -> HttpResponse:
    """Redis (kolejki, kanały) chwilowo niedostępny: 503 w JSON."""
    log.warning("redis unavailable for %s: %s", request.path, exc)
    return api.create_response(request, {"detail": "The queue service is unavailable; try again shortly."}, status=503)


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    """Brak obiektu albo cudzy obiekt: to samo 404."""
    return api.create_response(request, {"detail": "Not found."}, status=404)


@api.exception_handler(AuthenticationError)
def unauthorized(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    """Brak uwierzytelnienia: 401 z `WWW-Authenticate: Bearer` dla każdej metody (także POST bez tokenu)."""
    response = api.create_response(
        request, {"detail": "Authentication required: log in or send Authorization: Bearer <token>."}, status=401
    )
    response["WWW-Authenticate"] = "Bearer"
    return response


class ProjectIn(InputSchema):
    """Dane projektu przy tworzeniu i pełnej aktualizacji."""

    name: RequiredText = Field(max_length=255)
    description: CleanText = Field("", max_length=2000)
    target_audience: CleanText = Field("", max_length=2000)
    research_objectives: CleanText = Field("", max_length=4000)
    notes: CleanText = Field("", max_length=4000)
    language: Language = Language.PL
    target_demographics: DemographicsIn
    target_sample_size: json_int(ge=1, le=1000) = 20
    token_budget: json_int(ge=0, le=10**12) | None = None

    @field_validator("target_demographics")
    @classmethod
    def _demographics(cls, value: dict[str, Any]) -> dict[str, Any]:
        value = relative_to_shares(value)
        errors = demographics_errors(value)
        if errors:
            raise ValueError(
                "; ".join(f"{k}: {m}" if k != "__all__" else m for k, msgs in errors.items() for m in msgs)
            )
        return value


class ProjectPatch(InputSchema):
    """Częściowa aktualizacja projektu (PATCH)."""

    name: RequiredText = omittable(max_length=255)
    description: CleanText | None = Field(None, max_length=2000)
    target_audience: CleanText | None = Field(None, max_length=2000)
    research_objectives: CleanText | None = Field(None, max_length=4000)
    notes: CleanText | None = Field(None, max_length=4000)
    language: Language = omittable()
    target_demographics: DemographicsIn = omittable()
    target_sample_size: json_int(ge=1, le=1000) = omittable()
    token_budget: json_int(ge=0, le=10**12) | None = None

    @field_validator("description", "target_audience", "research_objectives", "notes")
    @classmethod
    def _null_clears(cls, value: str | None) -> str:
        return value or ""

    @field_validator("target_demographics")
    @classmethod
    def _demographics(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        return None if value is None else ProjectIn._demographics(value)


class ProjectOut(Schema):
    """Projekt w odpowiedzi API."""

    id: uuid.UUID
    name: str
    description: str
    target_audience: str
    research_objectives: str
    notes: str
    language: str
    target_demographics: dict[str, dict[str, float]]
    target_sample_size: int
    token_budget: int | None
    created_at: datetime
    updated_at: datetime


class JobOut(Schema):
    """Stan zadania w tle."""

    id: uuid.UUID
    kind: str
    status: str
    done: int
    total: int
    percent: int
    message: str = Field(description="progress message in the language of the request (Accept-Language)")
    message_id: str = Field(description="the message before translation: an English message id or plain text")
    message_params: dict[str, Any] = Field(description="values inserted into the translated message")
    error: str
    result: dict[str, Any]
    attempts: int
    project_id: uuid.UUID | None
    created_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None


class Detail(Schema):
    """Odpowiedź z komunikatem."""

    detail: str


projects = Router(tags=["projects"])


@projects.get("", response=list[ProjectOut])
@paginate(Pages, page_size=25)
def list_projects(request: HttpRequest) -> Any:
    """Projekty zalogowanego użytkownika, od ostatnio zmienionych."""
    return Project.objects.for_user(request.user)


@projects.post("", response={201: ProjectOut})
def create_project(request: HttpRequest, payload: ProjectIn) -> tuple[int, Project]:
    """Tworzy projekt."""
    project = Project(owner=request.user, **payload.dict())
    project.full_clean()
    project.save()
    return 201, project


@projects.get("/{project_id}", response=ProjectOut)
def get_project(request: HttpRequest, project_id: uuid.UUID) -> Project:
    """Jeden projekt."""
    return get_project_for_user(request.user, project_id)


@projects.put("/{project_id}", response=ProjectOut)
def replace_project(request: HttpRequest, project_id: uuid.UUID, payload: ProjectIn) -> Project:
    """Pełna aktualizacja projektu."""
    return _update(get_project_for_user(request.user, project_id), payload.dict())


@projects.patch("/{project_id}", response=ProjectOut)
def update_project(request: HttpRequest, project_id: uuid.UUID, payload: ProjectPatch) -> Project:
    """Częściowa aktualizacja projektu."""
    return _update(get_project_for_user(request.user, project_id), payload.dict(exclude_unset=True))


def _update(project: Project, values: dict[str, Any]) -> Project:
    for field, value in values.items():
        setattr(project, field, value)
    project.full_clean()
    project.save()
    return project


@projects.delete("/{project_id}", response={204: None})
def delete_project(request: HttpRequest, project_id: uuid.UUID) -> tuple[int, None]:
    """Usuwa projekt wraz z jego danymi."""
    project_ops.delete_project(get_project_for_user(request.user, project_id))
    return 204, None


jobs_router = Router(tags=["jobs"])


@jobs_router.get("/{job_id}", response=JobOut)
def get_job(request: HttpRequest, job_id: uuid.UUID) -> dict[str, Any]:
    """Stan i postęp zadania."""
    return get_job_for_user(request.user, job_id).as_dict()


@jobs_router.post("/{job_id}/cancel", response=JobOut)
def cancel_job(request: HttpRequest, job_id: uuid.UUID) -> dict[str, Any]:
    """Anuluje zadanie (w kolejce od razu, trwające przy najbliższym kroku)."""
    return jobs.cancel(get_job_for_user(request.user, job_id)).as_dict()


@api.get("/health", auth=None, tags=["health"])
def get_health(request: HttpRequest) -> HttpResponse:
    """Stan bazy, Redisa, grafu i dostawcy LLM; 503, gdy baza nie działa."""
    state = health.status(max_age=0)
    body = {"ok": all(s.get("ok") for s in state.values()), **state}
    return api.create_response(request, body, status=200 if state["database"]["ok"] else 503)


api.add_router("/projects", projects)
api.add_router("/jobs", jobs_router)
api.add_router("", personas_router)
api.add_router("", focus_groups_router)
api.add_router("", "focus_groups.insights_api.router")
api.add_router("", "surveys.api.router")
api.add_router("", "surveys.human_api.router")
api.add_router("", "rag.api.router")
api.add_router("", "rag.ask_api.router")
