"""API porównania z próbą ludzką: przesłanie pliku (multipart), lista, szczegóły, przypisanie (GET/PUT), porównanie."""

import uuid
from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, File, Router, Schema
from ninja.files import UploadedFile
from ninja.pagination import paginate

from sight.pagination import Pages
from sight.schemas import InputSchema
from sight.text import CleanText
from surveys import human
from surveys.models import HumanSample, get_human_sample_for_user, get_survey_for_user

router = Router(tags=["surveys"])
Category = Literal["gender", "age_group", "education", "income", "location", "segment"]


class ValueOut(Schema):
    """Wartość kolumny: kod z pliku, etykieta wartości (z .sav) i liczność."""

    code: str
    label: str
    count: int


class ColumnOut(Schema):
    """Kolumna pliku: nazwa, etykieta, liczba różnych wartości, czy same liczby, najczęstsze wartości."""

    name: str
    label: str
    distinct: int
    numeric: bool
    values: list[ValueOut]


class QuestionMapping(InputSchema):
    """Kolumna pliku dla pytania; `values`: kod z pliku → identyfikator opcji (wybór) albo punkt skali (ocena).

    NPS i liczby biorą wartości wprost z kolumny.
    """

    question: uuid.UUID
    column: CleanText = Field(max_length=300)
    values: dict[str, str | int] = Field(default_factory=dict, max_length=500)


class SegmentMapping(InputSchema):
    """Kolumna segmentu: kategoria banera person i kod z pliku → grupa person (np. `K` → `female`)."""

    column: CleanText = Field(max_length=300)
    category: Category
    values: dict[str, str] = Field(default_factory=dict, max_length=500)


class MappingIn(InputSchema):
    """Przypisanie kolumn pliku do pytań ankiety, opcjonalnie z kolumną segmentu."""

    questions: list[QuestionMapping] = Field(default_factory=list, max_length=200)
    segment: SegmentMapping | None = None


class QuestionMappingOut(Schema):
    """Przypisane pytanie."""

    question: uuid.UUID
    column: str
    values: dict[str, str | int]


class SegmentMappingOut(Schema):
    """Przypisana kolumna segmentu."""

    column: str
    category: str
    values: dict[str, str]


class MappingOut(Schema):
    """Przypisanie (zapisane albo zaproponowane z etykiet)."""

    questions: list[QuestionMappingOut]
    segment: SegmentMappingOut | None = None


class HumanSampleOut(Schema):
    """Próba ludzka: plik, liczba wierszy, kolumny z wartościami, stan i przypisanie."""

    id: uuid.UUID
    survey_id: uuid.UUID
    filename: str
    file_format: str
    size: int
    row_count: int
    status: str
    columns: list[ColumnOut]
    mapping: MappingOut
    created_at: datetime

    @staticmethod
    def resolve_mapping(obj: HumanSample) -> dict[str, Any]:
        """Przypisanie (pusty słownik to brak pytań)."""
        return {"questions": [], "segment": None, **(obj.mapping or {})}


class HumanSampleListOut(Schema):
    """Próba ludzka na liście (bez kolumn)."""

    id: uuid.UUID
    survey_id: uuid.UUID
    filename: str
    file_format: str
    row_count: int
    status: str
    created_at: datetime


class DistributionRowOut(Schema):
    """Kategoria w obu rozkładach: liczności i % ludzi i person (SSR: liczności ułamkowe z sumy rozkładów)."""

    key: str
    label: str
    human_count: float
    human_percent: float
    synthetic_count: float
    synthetic_percent: float


class Metrics(Schema):
    """Miary porównania: podobieństwo KS (skale uporządkowane), dystans TV, średnie i różnica (persony − ludzie)."""

    ks_similarity: float | None
    total_variation: float | None
    mean_difference: float | None
    human_mean: float | None
    synthetic_mean: float | None
    human_base: float
    synthetic_base: float
    distribution: list[DistributionRowOut]


class SegmentComparisonOut(Metrics):
    """Porównanie w jednej grupie segmentu."""

    segment: str
    label: str


class QuestionComparisonOut(Metrics):
    """Porównanie jednego pytania (i jego grup segmentu)."""

    question_id: uuid.UUID
    number: int
    text: str
    type: str
    method: str
    column: str
    human_missing: int
    segments: list[SegmentComparisonOut]


class ItemMeansOut(Schema):
    """Korelacja Pearsona średnich pytań skalowych (ludzie vs persony), przy ≥ 3 pytaniach."""

    n_items: int
    pearson: float | None
    p_value: float | None


class SegmentOut(Schema):
    """Kolumna segmentu i kategoria person."""

    column: str
    category: str


class ComparisonOut(Schema):
    """Porównanie próby ludzkiej z personami."""

    sample_id: uuid.UUID
    human_rows: int
    questions: list[QuestionComparisonOut]
    item_means: ItemMeansOut | None
    segment: SegmentOut | None
    not_mapped: list[int]


def _sample(request: HttpRequest, survey_id: uuid.UUID, sample_id: uuid.UUID) -> HumanSample:
    return get_human_sample_for_user(request.user, survey_id, sample_id)


@router.post("/surveys/{survey_id}/human-samples", response={201: HumanSampleOut})
def upload(request: HttpRequest, survey_id: uuid.UUID, file: File[UploadedFile]) -> tuple[int, HumanSample]:
    """Przyjmuje odpowiedzi ludzi (CSV z `,` lub `;`, UTF-8 lub cp1250; XLSX; SPSS .sav) i proponuje przypisanie."""
    survey = get_survey_for_user(request.user, survey_id)
    return 201, human.accept_upload(survey, file)


@router.get("/surveys/{survey_id}/human-samples", response=list[HumanSampleListOut])
@paginate(Pages, page_size=25)
def list_samples(request: HttpRequest, survey_id: uuid.UUID) -> Any:
    """Próby ludzkie ankiety, najnowsze najpierw."""
    return human.samples_for(get_survey_for_user(request.user, survey_id))


@router.get("/surveys/{survey_id}/human-samples/{sample_id}", response=HumanSampleOut)
def sample_detail(request: HttpRequest, survey_id: uuid.UUID, sample_id: uuid.UUID) -> HumanSample:
    """Jedna próba z kolumnami i przypisaniem."""
    return _sample(request, survey_id, sample_id)


@router.delete("/surveys/{survey_id}/human-samples/{sample_id}", response={204: None})
def delete_sample(request: HttpRequest, survey_id: uuid.UUID, sample_id: uuid.UUID) -> tuple[int, None]:
    """Usuwa próbę."""
    _sample(request, survey_id, sample_id).delete()
    return 204, None


@router.get("/surveys/{survey_id}/human-samples/{sample_id}/mapping", response=MappingOut)
def get_mapping(
    request: HttpRequest, survey_id: uuid.UUID, sample_id: uuid.UUID, proposed: bool = False
) -> dict[str, Any]:
    """Zapisane przypisanie; z `?proposed=true` — propozycja z etykiet kolumn i wartości."""
    sample = _sample(request, survey_id, sample_id)
    if proposed:
        return human.propose_mapping(sample, list(sample.survey.questions.order_by("order")))
    return {"questions": [], "segment": None, **(sample.mapping or {})}


@router.put("/surveys/{survey_id}/human-samples/{sample_id}/mapping", response=MappingOut)
def put_mapping(request: HttpRequest, survey_id: uuid.UUID, sample_id: uuid.UUID, payload: MappingIn) -> dict[str, Any]:
    """Zapisuje przypisanie; zła kolumna, pytanie, opcja czy punkt skali to 422 z nazwą pola."""
    sample = _sample(request, survey_id, sample_id)
    mapping = human.clean_mapping(sample, list(sample.survey.questions.order_by("order")), payload.model_dump())
    return human.save_mapping(sample, mapping).mapping


@router.get("/surveys/{survey_id}/human-samples/{sample_id}/comparison", response=ComparisonOut)
def comparison(request: HttpRequest, survey_id: uuid.UUID, sample_id: uuid.UUID) -> dict[str, Any]:
    """Per przypisane pytanie: podobieństwo KS, dystans TV, różnica średnich, oba rozkłady, bazy; per segment;
    korelacja średnich przy ≥ 3 pytaniach skalowych.
    """
    return human.compare_sample(_sample(request, survey_id, sample_id))
