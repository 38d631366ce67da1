"""Konfiguracja Sight jako dane: typowane, walidowane widoki plików YAML z tego katalogu.

`config.models`, `config.features`, `config.prompts` i `config.demographics` ładują się leniwie przy pierwszym
użyciu; błąd wskazuje plik i pole, a `manage.py check` zgłasza go jako sight.E001–E004.
"""

from __future__ import annotations

import os
import re
import string
from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

CONFIG_DIR = Path(os.environ.get("SIGHT_CONFIG_DIR", Path(__file__).resolve().parent))
LANGUAGES = ("pl", "en")


class ConfigError(Exception):
    """Błąd konfiguracji z nazwą pliku i pola."""

    def __init__(self, path: Path, field: str, message: str) -> None:
        self.path, self.field, self.message = path, field, message
        name = _relative(path)
        super().__init__(f"{name}: {field}: {message}" if field else f"{name}: {message}")


def _relative(path: Path) -> str:
    """Ścieżka względem katalogu konfiguracji (np. prompts/en/moderator.yaml)."""
    try:
        return str(path.relative_to(CONFIG_DIR))
    except ValueError:
        return path.name


class Strict(BaseModel):
    """Model bez nieznanych pól: literówka w YAML to błąd, nie cisza."""

    model_config = ConfigDict(extra="forbid", frozen=True)


# --- models.yaml ---------------------------------------------------------------------------------------------------

Provider = Literal["google", "openai", "offline", "fake"]


class Price(Strict):
    """Cena za milion tokenów (USD)."""

    input_per_million: float = Field(ge=0)
    output_per_million: float = Field(ge=0)


class RoleConfig(Strict):
    """Ustawienia jednej roli LLM (wartości nieustawione dziedziczy z `defaults`)."""

    provider: Provider | None = None
    model: str | None = None
    temperature: float | None = Field(default=None, ge=0, le=2)
    max_tokens: int | None = Field(default=None, ge=16, le=65536)
    timeout: float | None = Field(default=None, gt=0, le=600)
    concurrency: int | None = Field(default=None, ge=1, le=256)
    max_attempts: int | None = Field(default=None, ge=1, le=10)
    reasks: int | None = Field(default=None, ge=0, le=5)


class ResolvedRole(Strict):
    """Pełne ustawienia roli po scaleniu z wartościami domyślnymi."""

    name: str
    provider: Provider | None
    model: str
    temperature: float
    max_tokens: int
    timeout: float
    concurrency: int
    max_attempts: int
    reasks: int


class EmbeddingsConfig(Strict):
    """Model embeddingów per dostawca."""

    google_model: str = "models/gemini-embedding-001"
    openai_model: str = "nomic-embed-text"
    offline_dimensions: int = Field(default=256, ge=8, le=4096)


class CallEstimate(Strict):
    """Przybliżone tokeny jednego wywołania roli (kosztorys przed startem)."""

    input_tokens: int = Field(ge=0)
    output_tokens: int = Field(ge=0)


class ModelsConfig(Strict):
    """Zawartość `models.yaml`: role → dostawca, model, parametry; cennik modeli; szacunek tokenów wywołania."""

    defaults: RoleConfig
    roles: dict[str, RoleConfig]
    prices: dict[str, Price] = {}
    estimates: dict[str, CallEstimate] = {}
    embeddings: EmbeddingsConfig = EmbeddingsConfig()

    @model_validator(mode="after")
    def _estimates_for_known_roles(self) -> ModelsConfig:
        unknown = sorted(set(self.estimates) - set(self.roles))
        if unknown:
            raise ValueError(f"estimates for unknown roles: {', '.join(unknown)}")
        return self

    @model_validator(mode="after")
    def _defaults_complete(self) -> ModelsConfig:
        missing = [
            f
            for f in ("model", "temperature", "max_tokens", "timeout", "concurrency", "max_attempts", "reasks")
            if getattr(self.defaults, f) is None
        ]
        if missing:
            raise ValueError(f"defaults must set {', '.join(missing)}")
        return self

    def role(self, name: str) -> ResolvedRole:
        """Ustawienia roli; nieznana rola to KeyError z listą znanych."""
        if name not in self.roles:
            raise KeyError(f"unknown LLM role {name!r}; known: {', '.join(sorted(self.roles))}")
        merged = {
            **self.defaults.model_dump(),
            **{k: v for k, v in self.roles[name].model_dump().items() if v is not None},
        }
        return ResolvedRole(name=name, **merged)

    def estimate(self, role: str) -> CallEstimate:
        """Szacunek tokenów wywołania roli; rola bez szacunku to KeyError."""
        if role not in self.estimates:
            raise KeyError(f"no token estimate for LLM role {role!r} in models.yaml")
        return self.estimates[role]

    def price(self, model: str) -> Price:
        """Cena modelu; nieznany model (np. lokalny) kosztuje 0."""
        return self.prices.get(model, Price(input_per_million=0, output_per_million=0))


# --- features.yaml -------------------------------------------------------------------------------------------------


class PersonaFeatures(Strict):
    """Limity i ustawienia generowania person."""

    max_per_run: int = Field(default=500, ge=1, le=5000)
    default_seed: int = 42
    near_duplicate_threshold: float = Field(default=0.9, gt=0, le=1)
    shared_phrase_share: float = Field(default=0.3, gt=0, le=1)
    trait_presets: dict[str, dict[str, float]] = {}


class FocusGroupFeatures(Strict):
    """Ustawienia grup fokusowych."""

    max_participants: int = Field(default=12, ge=2, le=50)
    max_questions: int = Field(default=20, ge=1, le=100)
    default_turns_per_question: int = Field(default=8, ge=1, le=100)


class Emotion(Strict):
    """Emocja z ustalonej listy: nazwa w każdym języku interfejsu."""

    pl: str = Field(min_length=1)
    en: str = Field(min_length=1)


class ConceptFeatures(Strict):
    """Ekstrakcja pojęć z dyskusji: próg scalania po podobieństwie embeddingów i ustalona lista emocji."""

    merge_threshold: float = Field(default=0.9, gt=0, le=1)
    emotions: dict[str, Emotion] = Field(default_factory=dict)


class SurveyFeatures(Strict):
    """Limity ankiet."""

    max_questions: int = Field(default=40, ge=1, le=200)
    max_options: int = Field(default=20, ge=2, le=100)
    max_respondents: int = Field(default=500, ge=1, le=5000)
    human_max_upload_mb: int = Field(default=10, ge=1, le=200)
    human_max_rows: int = Field(default=20_000, ge=10, le=1_000_000)
    human_max_columns: int = Field(default=300, ge=2, le=5000)
    human_parse_cpu_seconds: int = Field(default=60, ge=1)
    human_parse_timeout_seconds: int = Field(default=90, ge=1)


class KnowledgeFeatures(Strict):
    """Limity i ustawienia bazy wiedzy: przyjmowanie plików, parsowanie w procesie potomnym, podział i wyszukiwanie."""

    max_upload_mb: int = Field(default=20, ge=1, le=500)
    max_text_chars: int = Field(default=5_000_000, ge=1000)
    docx_max_entries: int = Field(default=2000, ge=10)
    docx_max_uncompressed_mb: int = Field(default=200, ge=1)
    docx_max_ratio: int = Field(default=100, ge=2)
    parse_memory_mb: int = Field(default=768, ge=128)
    parse_cpu_seconds: int = Field(default=20, ge=1)
    parse_timeout_seconds: int = Field(default=30, ge=1)
    pdf_max_pages: int = Field(default=2000, ge=1)
    chunk_size: int = Field(default=1000, ge=100, le=10_000)
    chunk_overlap: int = Field(default=150, ge=0, le=5000)
    embed_batch: int = Field(default=64, ge=1, le=2048)
    candidates: int = Field(default=100, ge=1, le=1000)
    lexical_weight: float = Field(default=1.0, ge=0)
    vector_weight: float = Field(default=0.5, ge=0)
    rrf_k: int = Field(default=60, ge=1)
    ef_search: int = Field(default=100, ge=10, le=1000)
    max_df_ratio: float = Field(default=0.2, gt=0, le=1)
    min_df_cap: int = Field(default=50, ge=1)
    bm25_k1: float = Field(default=0.9, gt=0)
    bm25_b: float = Field(default=0.4, ge=0, le=1)
    persona_passages: int = Field(default=4, ge=1, le=20)
    grounding_passages: int = Field(default=3, ge=1, le=10)

    @model_validator(mode="after")
    def _overlap_below_size(self) -> KnowledgeFeatures:
        if self.chunk_overlap >= self.chunk_size:
            raise ValueError("chunk_overlap must be smaller than chunk_size")
        return self


class TypeLabel(Strict):
    """Typ encji albo relacji grafu dokumentów: nazwa w każdym języku (trafia do promptu i interfejsu)."""

    pl: str = Field(min_length=1)
    en: str = Field(min_length=1)


class DocGraphFeatures(Strict):
    """Graf dokumentów: typy encji i relacji, limity ekstrakcji z fragmentu i kontekstu pytania do bazy wiedzy."""

    extract_after_ingest: bool = True
    max_entities: int = Field(default=12, ge=1, le=50)
    max_relations: int = Field(default=10, ge=0, le=50)
    entity_types: dict[str, TypeLabel] = Field(default_factory=dict)
    relation_types: dict[str, TypeLabel] = Field(default_factory=dict)
    candidate_entities: int = Field(default=40, ge=1, le=200)
    question_entities: int = Field(default=4, ge=1, le=10)
    graph_chunks: int = Field(default=5, ge=0, le=30)
    search_chunks: int = Field(default=6, ge=1, le=30)
    context_chunks: int = Field(default=8, ge=1, le=40)
    paths: int = Field(default=5, ge=0, le=50)


class FeaturesConfig(Strict):
    """Zawartość `features.yaml`: przełączniki i limity produktu."""

    llm_cache: bool = True
    rag: bool = True
    graph: bool = True
    page_size: int = Field(default=25, ge=1, le=200)
    personas: PersonaFeatures = PersonaFeatures()
    focus_groups: FocusGroupFeatures = FocusGroupFeatures()
    concepts: ConceptFeatures = ConceptFeatures()
    surveys: SurveyFeatures = SurveyFeatures()
    knowledge: KnowledgeFeatures = KnowledgeFeatures()
    doc_graph: DocGraphFeatures = DocGraphFeatures()


# --- prompts/<lang>/*.yaml -----------------------------------------------------------------------------------------


class Prompt(Strict):
    """Szablon promptu (`$zmienna` jak w string.Template); zmienne muszą być zadeklarowane.

    `instructions`: nazwane krótkie polecenia wstawiane do promptu jako zmienna (np. instrukcja moderatora na turę), z
    własnymi zmiennymi `$nazwa`.
    """

    id: str
    version: int = Field(ge=1)
    description: str = ""
    variables: list[str] = []
    system: str
    user: str
    instructions: dict[str, str] = {}

    @model_validator(mode="after")
    def _variables_declared(self) -> Prompt:
        used = {
            m.group("named") or m.group("braced")
            for text in (self.system, self.user)
            for m in string.Template.pattern.finditer(text)
            if m.group("named") or m.group("braced")
        }
        undeclared = sorted(used - set(self.variables))
        if undeclared:
            raise ValueError(f"template uses undeclared variables: {', '.join(undeclared)}")
        return self

    def render(self, **values: Any) -> tuple[str, str]:
        """Zwraca (system, user) z podstawionymi wartościami; brak zmiennej to KeyError."""
        missing = sorted(set(self.variables) - set(values))
        if missing:
            raise KeyError(f"prompt {self.id} needs: {', '.join(missing)}")
        return string.Template(self.system).substitute(values), string.Template(self.user).substitute(values)

    def instruction(self, name: str, /, **values: Any) -> str:
        """Nazwane polecenie z podstawionymi wartościami; brak polecenia albo zmiennej to KeyError."""
        if name not in self.instructions:
            raise KeyError(f"prompt {self.id} has no instruction {name!r}")
        return string.Template(self.instructions[name]).substitute(values)


class Prompts:
    """Prompty per język: `config.prompts.get("persona_generation", "pl")`."""

    def __init__(self, by_language: dict[str, dict[str, Prompt]]) -> None:
        self.by_language = by_language

    def get(self, name: str, language: str) -> Prompt:
        """Prompt w danym języku (angielski, gdy języka nie ma)."""
        prompts = self.by_language.get(language) or self.by_language["en"]
        return prompts[name]

    def names(self) -> set[str]:
        """Nazwy promptów (te same w każdym języku)."""
        return set().union(*(p.keys() for p in self.by_language.values()))


# --- demographics/*.yaml -------------------------------------------------------------------------------------------


class Category(Strict):
    """Kategoria demograficzna z etykietami i wagami koszyków (sumują się do 1)."""

    label: dict[str, str]
    buckets: dict[str, float]
    bucket_labels: dict[str, dict[str, str]] = {}

    @field_validator("buckets")
    @classmethod
    def _weights(cls, buckets: dict[str, float]) -> dict[str, float]:
        if not buckets or any(w < 0 for w in buckets.values()) or abs(sum(buckets.values()) - 1) > 1e-6:
            raise ValueError("bucket weights must be non-negative and sum to 1")
        return buckets


class Occupation(Strict):
    """Zawód z zakresem wieku i minimalnym wykształceniem (spójność profilu)."""

    name: str
    min_age: int = Field(default=18, ge=14, le=100)
    max_age: int = Field(default=100, ge=14, le=120)
    education: list[str] = []
    income: list[str] = []


class Vocabularies(Strict):
    """Słowniki do generowania: imiona, nazwiska, zawody, zainteresowania, wartości, style."""

    first_names: dict[str, list[str]]
    surnames: list[str] | dict[str, list[str]]
    occupations: list[Occupation]
    interests: list[str]
    values: list[str]
    communication_styles: list[str]
    decision_styles: list[str]
    concerns: list[str] = []


class DemographicPreset(Strict):
    """Preset rynku (np. Polska, USA): kategorie z wagami i słowniki."""

    id: str
    label: dict[str, str]
    country: str
    language: Literal["pl", "en"]
    categories: dict[str, Category]
    vocabularies: Vocabularies

    @model_validator(mode="after")
    def _vocabulary_matches_buckets(self) -> DemographicPreset:
        for i, job in enumerate(self.vocabularies.occupations):
            for category, keys in (("education", job.education), ("income", job.income)):
                unknown = (
                    sorted(set(keys) - set(self.categories[category].buckets)) if category in self.categories else []
                )
                if unknown:
                    raise ValueError(
                        f"vocabularies.occupations.{i} ({job.name}): unknown {category} buckets: {', '.join(unknown)}"
                    )
            if job.min_age > job.max_age:
                raise ValueError(f"vocabularies.occupations.{i} ({job.name}): min_age is above max_age")
        for name, category in self.categories.items():
            extra = sorted(set(category.bucket_labels) - set(category.buckets))
            if extra:
                raise ValueError(f"categories.{name}.bucket_labels: labels for unknown buckets: {', '.join(extra)}")
        return self

    def target_demographics(self) -> dict[str, dict[str, float]]:
        """Rozkład w formacie projektu: kategoria → {koszyk: waga}."""
        return {name: dict(cat.buckets) for name, cat in self.categories.items()}


# --- loading -------------------------------------------------------------------------------------------------------


def _read(path: Path) -> Any:
    try:
        with path.open(encoding="utf-8") as f:
            return yaml.safe_load(f)
    except FileNotFoundError as exc:
        raise ConfigError(path, "", "file is missing") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(path, "", f"invalid YAML: {exc}") from exc


def _parse[T: BaseModel](model: type[T], path: Path) -> T:
    try:
        return model.model_validate(_read(path) or {})
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"])
        raise ConfigError(path, field, re.sub(r"^Value error, ", "", err["msg"])) from exc


@cache
def load_models() -> ModelsConfig:
    """Wczytuje `models.yaml`."""
    return _parse(ModelsConfig, CONFIG_DIR / "models.yaml")


@cache
def load_features() -> FeaturesConfig:
    """Wczytuje `features.yaml`."""
    return _parse(FeaturesConfig, CONFIG_DIR / "features.yaml")


@cache
def load_prompts() -> Prompts:
    """Wczytuje `prompts/<język>/*.yaml`; każdy język musi mieć ten sam zestaw promptów."""
    by_language: dict[str, dict[str, Prompt]] = {}
    for language in LANGUAGES:
        folder = CONFIG_DIR / "prompts" / language
        by_language[language] = {p.stem: _parse(Prompt, p) for p in sorted(folder.glob("*.yaml"))}
    reference = set(by_language["en"])
    for language, prompts in by_language.items():
        if set(prompts) != reference:
            diff = sorted(set(prompts) ^ reference)
            raise ConfigError(
                CONFIG_DIR / "prompts" / language, "", f"prompt sets differ between languages: {', '.join(diff)}"
            )
        for name, prompt in prompts.items():
            if set(prompt.instructions) != set(by_language["en"][name].instructions):
                diff = sorted(set(prompt.instructions) ^ set(by_language["en"][name].instructions))
                raise ConfigError(
                    CONFIG_DIR / "prompts" / language / f"{name}.yaml",
                    "instructions",
                    f"instruction names differ between languages: {', '.join(diff)}",
                )
    return Prompts(by_language)


@cache
def load_demographics() -> dict[str, DemographicPreset]:
    """Wczytuje presety rynków z `demographics/*.yaml` (klucz: id presetu)."""
    presets = [_parse(DemographicPreset, p) for p in sorted((CONFIG_DIR / "demographics").glob("*.yaml"))]
    return {p.id: p for p in presets}


# --- consistency.yaml (sprawdzian spójności person) ------------------------------------------------------------------


class ClaimPattern(Strict):
    """Zwrot przypisujący personie zawód; `endings` — wymagane końcówki słowa zawodu (np. narzędnik po „jest”)."""

    pattern: str
    endings: list[str] = []


class OccupationTerm(Strict):
    """Zawód w słowniku spójności: rdzenie (fragmenty wyrażeń regularnych) i zakres wieku, w którym jest wiarygodny."""

    stems: list[str] = Field(min_length=1)
    min_age: int | None = Field(default=None, ge=0, le=120)
    max_age: int | None = Field(default=None, ge=0, le=120)
    status: bool = False


class GenderedForms(Strict):
    """Wzorce form gramatycznych kobiecych i męskich."""

    female: str
    male: str


class GenderedWords(Strict):
    """Słowa (albo końcówki słów) określające płeć."""

    female: list[str] = []
    male: list[str] = []


class PlaceRules(Strict):
    """Miejsce zamieszkania: zwrot „mieszka …”, określenia miejsc przypisane koszykom i grupy zgodnych koszyków."""

    claim: str
    by_bucket: dict[str, list[str]]
    compatible: list[list[str]] = []


class IncomeRule(Strict):
    """Kwota zarobków w tekście i tolerancja względem granic koszyka dochodu."""

    pattern: str
    tolerance: float = Field(default=0.2, ge=0, le=1)


class ConsistencyLexicon(Strict):
    """Słowniki i wzorce jednego języka dla sprawdzianu spójności person."""

    claims: list[ClaimPattern]
    past_markers: list[str] = []
    other_people: list[str] = []
    occupations: dict[str, OccupationTerm]
    generic: list[str] = []
    age_patterns: list[str] = []
    first_person: GenderedWords | None = None
    third_person: GenderedForms | None = None
    gender_exceptions: list[str] = []
    gendered_nouns: GenderedWords = GenderedWords()
    gendered_claim: str = ""
    places: PlaceRules | None = None
    income: IncomeRule | None = None

    @model_validator(mode="after")
    def _patterns_compile(self) -> ConsistencyLexicon:
        patterns = [c.pattern for c in self.claims] + [p.replace("{first}", "x") for p in self.age_patterns]
        patterns += [stem for term in self.occupations.values() for stem in term.stems]
        if self.third_person:
            patterns += [
                self.third_person.female.replace("{first}", "x"),
                self.third_person.male.replace("{first}", "x"),
            ]
        patterns += [self.gendered_claim.replace("{first}", "x")] + ([self.places.claim] if self.places else [])
        patterns += [self.income.pattern] if self.income else []
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"invalid regular expression {pattern!r}: {exc}") from exc
        return self


class ConsistencyConfig(Strict):
    """Słowniki spójności dla każdego języka interfejsu."""

    pl: ConsistencyLexicon
    en: ConsistencyLexicon


@cache
def load_consistency() -> ConsistencyConfig:
    """Wczytuje `consistency.yaml`."""
    return _parse(ConsistencyConfig, CONFIG_DIR / "consistency.yaml")


# --- surveys/ssr.yaml i surveys/anchors/<język>.yaml (SSR ankiet) ---------------------------------------------------

SURVEY_CONSTRUCTS = ("agreement", "likelihood", "purchase_intent", "satisfaction", "importance")
SSR_SCALES = (5, 7)


class SsrSettings(Strict):
    """Parametry Semantic Similarity Rating i próg bramki drabiny."""

    temperature: float = Field(default=1.0, ge=0, le=5)
    epsilon: float = Field(default=0.0, ge=0, le=1)
    ladder_min_spearman: float = Field(default=0.8, ge=-1, le=1)
    min_anchor_sets: int = Field(default=4, ge=1, le=20)


class ConstructAnchors(Strict):
    """Kotwice jednego konstruktu w jednym języku: drabina (poziom → zdania) i zestawy zdań per długość skali."""

    ladder: dict[int, list[str]]
    scales: dict[int, list[list[str]]]

    @model_validator(mode="after")
    def _sets_well_formed(self) -> ConstructAnchors:
        if sorted(self.ladder) != list(range(1, len(self.ladder) + 1)) or len(self.ladder) < 3:
            raise ValueError("ladder levels must be 1, 2, 3… (at least 3 levels)")
        statements = [s for level in self.ladder.values() for s in level]
        if len(set(statements)) != len(statements) or not all(s.strip() for s in statements):
            raise ValueError("ladder statements must be non-empty and distinct")
        anchors = {s for sets in self.scales.values() for statements in sets for s in statements}
        reused = sorted(anchors.intersection(statements))
        if reused:
            raise ValueError(f"ladder reuses anchor statements: {', '.join(reused)}")
        if sorted(self.scales) != list(SSR_SCALES):
            raise ValueError(f"scales must be exactly {', '.join(map(str, SSR_SCALES))}")
        for points, sets in self.scales.items():
            for i, statements in enumerate(sets):
                if len(statements) != points:
                    raise ValueError(f"scales.{points}.{i}: needs {points} statements, got {len(statements)}")
                if len(set(statements)) != points or not all(s.strip() for s in statements):
                    raise ValueError(f"scales.{points}.{i}: statements must be non-empty and distinct")
            if len({tuple(s) for s in sets}) != len(sets):
                raise ValueError(f"scales.{points}: duplicate anchor sets")
        return self


class AnchorFile(Strict):
    """Zawartość `surveys/anchors/<język>.yaml`."""

    language: Literal["pl", "en"]
    constructs: dict[str, ConstructAnchors]


class SurveysConfig:
    """Konfiguracja ankiet: `config.load_surveys().anchor_sets("agreement", "pl", 5)`."""

    def __init__(self, ssr: SsrSettings, anchors: dict[str, dict[str, ConstructAnchors]]) -> None:
        self.ssr, self.anchors = ssr, anchors

    def _construct(self, construct: str, language: str) -> ConstructAnchors:
        by_construct = self.anchors[language]
        if construct not in by_construct:
            raise KeyError(f"unknown survey construct {construct!r}; known: {', '.join(sorted(by_construct))}")
        return by_construct[construct]

    def anchor_sets(self, construct: str, language: str, points: int) -> list[list[str]]:
        """Zestawy kotwic (każdy: jedno zdanie na punkt skali, od najniższego)."""
        scales = self._construct(construct, language).scales
        if points not in scales:
            raise KeyError(f"no anchor sets for a {points}-point scale; known: {', '.join(map(str, sorted(scales)))}")
        return scales[points]

    def ladder(self, construct: str, language: str) -> list[tuple[int, str]]:
        """Zamrożona drabina (poziom, zdanie) od „na pewno nie” (1) do „na pewno tak”."""
        ladder = self._construct(construct, language).ladder
        return [(level, statement) for level in sorted(ladder) for statement in ladder[level]]


def load_surveys() -> SurveysConfig:
    """Wczytuje `surveys/ssr.yaml` i `surveys/anchors/<język>.yaml` (cache per katalog konfiguracji)."""
    return _load_surveys(CONFIG_DIR)


@cache
def _load_surveys(directory: Path) -> SurveysConfig:
    ssr = _parse(SsrSettings, directory / "surveys" / "ssr.yaml")
    anchors: dict[str, dict[str, ConstructAnchors]] = {}
    for language in LANGUAGES:
        path = directory / "surveys" / "anchors" / f"{language}.yaml"
        parsed = _parse(AnchorFile, path)
        if parsed.language != language:
            raise ConfigError(path, "language", f"must be {language!r} (the file name)")
        missing = sorted(set(SURVEY_CONSTRUCTS) - set(parsed.constructs))
        if missing:
            raise ConfigError(path, "constructs", f"missing constructs: {', '.join(missing)}")
        for name, construct in parsed.constructs.items():
            for points, sets in construct.scales.items():
                if len(sets) < ssr.min_anchor_sets:
                    raise ConfigError(
                        path, f"constructs.{name}.scales.{points}", f"needs at least {ssr.min_anchor_sets} anchor sets"
                    )
        anchors[language] = parsed.constructs
    return SurveysConfig(ssr, anchors)


def reload() -> None:
    """Czyści wczytaną konfigurację (testy, zmiana SIGHT_CONFIG_DIR)."""
    for loader in (load_models, load_features, load_prompts, load_demographics, _load_surveys, load_consistency):
        loader.cache_clear()


def use_dir(path: Path) -> None:
    """Przełącza katalog konfiguracji (testy walidacji) i czyści cache."""
    global CONFIG_DIR
    CONFIG_DIR = Path(path)
    reload()


def __getattr__(name: str) -> Any:
    loaders = {
        "models": load_models,
        "features": load_features,
        "prompts": load_prompts,
        "demographics": load_demographics,
        "surveys": load_surveys,
    }
    if name in loaders:
        return loaders[name]()
    raise AttributeError(name)
