"""Ekstrakcja pojęć z dyskusji: per wypowiedź pojęcia z nastawieniem i cytatem, emocje i odniesienia do wcześniejszych
wypowiedzi; kanonizacja pojęć w projekcie (klucz lematopodobny, potem podobieństwo embeddingów); zapis w PostgreSQL,
potem w grafie.

Zadanie jest idempotentne: wypowiedź z zapisanym wynikiem (zrobiona albo pominięta z powodem) nie jest analizowana
ponownie, chyba że `force`.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import unicodedata
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from asgiref.sync import sync_to_async
from django.db import transaction
from django.db.models import Count
from pydantic import BaseModel, Field, create_model, model_validator

import config
from focus_groups.models import (
    Concept,
    ConceptAlias,
    ConceptMention,
    FocusGroup,
    FocusGroupEvent,
    TurnEmotion,
    TurnExtraction,
    TurnRelation,
)
from sight import graph, jobs, llm
from sight.models import Job, Project, User

log = logging.getLogger(__name__)

JOB_KIND = "focus_groups.concepts"
ROLE = "concept_extraction"
SPOKEN = (FocusGroupEvent.Kind.TURN, FocusGroupEvent.Kind.ANSWER)
EARLIER_TURNS = 12  # tyle wcześniejszych wypowiedzi z pytania trafia do promptu (odniesienia sięgają tylko do nich)
MAX_CONCEPTS, MAX_EMOTIONS, MAX_RELATIONS = 8, 3, 5
PROGRESS_EVERY = 0.5  # s: częściej postęp tylko w pamięci (zapis, publikacja i sprawdzenie anulowania to ~5 ms)

# Końcówki fleksyjne (bez znaków diakrytycznych, najdłuższe najpierw): „ceny”, „cenie”, „cenami” → „cen”;
# „prices”, „price” → „pric”. Rdzeń ma co najmniej 3 litery, więc krótkie słowa zostają całe.
SUFFIXES = tuple(
    sorted(
        {"ami", "ach", "ow", "om", "ie", "ych", "ymi", "ego", "emu", "ej", "ym", "em", "y", "i", "a", "e", "u", "o"}
        | {"ies", "es", "s"},
        key=len,
        reverse=True,
    )
)


# --- kanonizacja -----------------------------------------------------------------------------------------------------


def fold(text: str) -> str:
    """Małe litery bez znaków diakrytycznych i interpunkcji, pojedyncze spacje („Wysokie  CENY!” → „wysokie ceny”)."""
    lowered = str(text).casefold().replace("ł", "l")
    plain = "".join(c for c in unicodedata.normalize("NFKD", lowered) if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w]+", " ", plain).split())


def stem(word: str) -> str:
    """Słowo bez najdłuższej pasującej końcówki fleksyjnej (polskiej albo angielskiej), rdzeń ≥ 3 litery."""
    for suffix in SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def concept_key(name: str) -> str:
    """Klucz kanoniczny pojęcia w projekcie: złożone słowa bez końcówek („cena”, „ceny”, „Cenie” → „cen”)."""
    return " ".join(stem(word) for word in fold(name).split())[:200]


def display_name(name: str) -> str:
    """Nazwa do wyświetlenia: pojedyncze spacje, bez interpunkcji na brzegach."""
    return " ".join(str(name).split()).strip(" .,;:!?\"'()[]{}«»„”-–—")[:200]


class Canonicaliser:
    """Przypisuje nazwy pojęć do pojęć projektu: najpierw po kluczu, potem po podobieństwie embeddingów nazw."""

    def __init__(self, project: Project, *, threshold: float | None = None) -> None:
        self.project = project
        self.threshold = threshold if threshold is not None else config.load_features().concepts.merge_threshold
        self.by_key = {
            alias.key: alias.concept for alias in ConceptAlias.objects.filter(project=project).select_related("concept")
        }
        rows = [c for c in Concept.objects.filter(project=project).filter(embedding__isnull=False)]
        self.concepts = rows
        self.vectors = np.array([c.embedding for c in rows], dtype=float) if rows else np.zeros((0, 0))
        self._embeddings: Any = None

    def resolve(self, name: str) -> Concept | None:
        """Pojęcie projektu dla nazwy (tworzy nowe, gdy nic nie jest dość podobne); pusta nazwa → None."""
        return self.resolve_many([name])[name]

    def resolve_many(self, names: Iterable[str]) -> dict[str, Concept | None]:
        """Pojęcia projektu dla wielu nazw naraz: nieznane klucze dostają wektory jednym wywołaniem embeddingów, nowe
        pojęcia i aliasy trafiają do bazy dwoma wstawieniami. Kolejność nazw decyduje jak przy pojedynczych
        wywołaniach: nowe pojęcie może wchłonąć późniejszą, podobną nazwę z tej samej partii.
        """
        wanted = {name: (concept_key(name), display_name(name)) for name in names}
        unseen: dict[str, str] = {}
        for key, shown in wanted.values():
            if key and shown and key not in self.by_key:
                unseen.setdefault(key, shown)
        if unseen:
            self._add(unseen)
        return {name: self.by_key[key] if key and shown else None for name, (key, shown) in wanted.items()}

    def _add(self, unseen: dict[str, str]) -> None:
        """Klucze bez aliasu: do najbliższego pojęcia powyżej progu albo jako nowe pojęcia (z aliasami)."""
        vectors = self._embed_many(list(unseen.values()))
        created: list[Concept] = []
        for (key, shown), vector in zip(unseen.items(), vectors, strict=True):
            concept = self._nearest(vector) if vector is not None else None
            if concept is None:
                concept = Concept(project=self.project, key=key, name=shown, embedding=vector)
                created.append(concept)
                self._remember(concept)
            self.by_key[key] = concept
        if created:
            Concept.objects.bulk_create(created, ignore_conflicts=True)
            # Ten sam klucz mógł właśnie zapisać ktoś inny: obowiązuje wiersz z bazy.
            stored = {c.key: c for c in Concept.objects.filter(project=self.project, key__in=[c.key for c in created])}
            replaced = {id(c): stored[c.key] for c in created}
            self.by_key = {k: replaced.get(id(c), c) for k, c in self.by_key.items()}
            self.concepts = [replaced.get(id(c), c) for c in self.concepts]
        ConceptAlias.objects.bulk_create(
            (ConceptAlias(project=self.project, key=key, concept=self.by_key[key]) for key in unseen),
            ignore_conflicts=True,
        )

    def _remember(self, concept: Concept) -> None:
        """Nowe pojęcie z wektorem staje się kandydatem do scalania kolejnych nazw."""
        if concept.embedding is None or (len(self.vectors) and self.vectors.shape[1] != len(concept.embedding)):
            return
        self.concepts.append(concept)
        row = np.array([concept.embedding], dtype=float)
        self.vectors = row if not len(self.vectors) else np.vstack([self.vectors, row])

    def _nearest(self, vector: list[float]) -> Concept | None:
        if not len(self.vectors) or self.vectors.shape[1] != len(vector):
            return None
        query = np.array(vector, dtype=float)
        norms = np.linalg.norm(self.vectors, axis=1) * (np.linalg.norm(query) or 1.0)
        scores = self.vectors @ query / np.where(norms == 0, 1.0, norms)
        best = int(np.argmax(scores))
        return self.concepts[best] if scores[best] >= self.threshold else None

    def _embed_many(self, texts: list[str]) -> list[list[float] | None]:
        """Wektory nazw jednym wywołaniem; błąd dostawcy embeddingów oznacza tylko scalanie po kluczu, nie przerwanie
        zadania.
        """
        try:
            if self._embeddings is None:
                self._embeddings = llm.build_embeddings()
            return [[float(x) for x in vector] for vector in self._embeddings.embed_documents(texts)]
        except Exception:  # noqa: BLE001 - scalanie po podobieństwie jest ulepszeniem, nie warunkiem ekstrakcji
            log.warning("embedding %d concept names failed; merging by key only", len(texts), exc_info=True)
            return [None] * len(texts)


# --- schemat odpowiedzi ---------------------------------------------------------------------------------------------


def same_text(text: str) -> str:
    """Tekst do porównań cytatów: pojedyncze spacje, bez rozróżniania wielkości liter."""
    return " ".join(str(text).split()).casefold()


class MentionOut(BaseModel):
    """Pojęcie w wypowiedzi z nastawieniem mówiącego i dosłownym cytatem."""

    name: str = Field(min_length=1, max_length=80, description="short noun phrase in its base form")
    stance: float = Field(ge=-1, le=1, description="the speaker's attitude: -1 against, 0 neutral, 1 for")
    quote: str = Field(min_length=1, max_length=300, description="verbatim excerpt of the statement")


class RelationOut(BaseModel):
    """Odniesienie do wcześniejszej wypowiedzi (numer z nawiasu kwadratowego)."""

    turn: int = Field(description="number in [brackets] of an earlier statement")
    relation: Literal["agree", "disagree", "builds_on"]


# Tekst analizowanej wypowiedzi i numery wcześniejszych wypowiedzi — ustawiane na czas jednego wywołania (w jego
# zadaniu asyncio), więc jeden schemat na cały przebieg sprawdza cytaty i odniesienia każdej wypowiedzi osobno.
_GROUNDING: ContextVar[tuple[str, frozenset[int]] | None] = ContextVar("concept_grounding", default=None)


@contextmanager
def grounded_in(text: str, earlier: frozenset[int]) -> Iterator[None]:
    """Na czas bloku schemat wyniku odrzuca cytaty spoza `text` i numery spoza `earlier`."""
    token = _GROUNDING.set((same_text(text), earlier))
    try:
        yield
    finally:
        _GROUNDING.reset(token)


def _grounded(self: Any) -> Any:
    """Walidator schematu: cytaty dosłownie z wypowiedzi, odniesienia tylko do pokazanych wcześniejszych wypowiedzi."""
    grounding = _GROUNDING.get()
    if grounding is None:  # poza `grounded_in` (np. odczyt z cache bez kontekstu) — `save_turns` sprawdza i tak
        return self
    haystack, earlier = grounding
    problems = []
    bad_quotes = [m.quote for m in self.concepts if same_text(m.quote) not in haystack]
    if bad_quotes:
        problems.append(f"quotes {bad_quotes[:3]} are not verbatim excerpts of the statement; copy them exactly")
    bad_turns = sorted({r.turn for r in self.relations} - earlier)
    if bad_turns:
        problems.append(f"turns {bad_turns} are not earlier statements; use only numbers shown in [brackets]")
    if problems:
        raise ValueError("; ".join(problems))
    return self


@functools.cache
def analysis_schema(emotions: tuple[str, ...], *, relations: bool) -> type[BaseModel]:
    """Schemat wyniku jednej wypowiedzi (jeden na listę emocji i obecność wcześniejszych wypowiedzi): budowa klasy,
    jej schemat JSON i narzędzie dla modelu to kilka ms CPU na pętli zdarzeń, więc nie powtarzamy ich dla każdej tury.
    """
    emotion = Literal[emotions]  # type: ignore[valid-type]
    return create_model(
        "TurnAnalysis",
        __doc__="Pojęcia, emocje i odniesienia jednej wypowiedzi.",
        __validators__={"grounded": model_validator(mode="after")(_grounded)},
        concepts=(list[MentionOut], Field(default_factory=list, max_length=MAX_CONCEPTS)),
        emotions=(list[emotion], Field(default_factory=list, max_length=MAX_EMOTIONS)),
        relations=(list[RelationOut], Field(default_factory=list, max_length=MAX_RELATIONS if relations else 0)),
    )


# --- zadanie --------------------------------------------------------------------------------------------------------


def start_extraction(fg: FocusGroup, *, user: User | None, force: bool = False) -> Job:
    """Wstawia zadanie ekstrakcji pojęć (rola `concept_extraction`); `force` analizuje od nowa także zrobione tury."""
    if not fg.events.filter(kind__in=SPOKEN).exists():
        raise ValueError("there are no turns to analyse yet")
    return jobs.start_job(
        kind=JOB_KIND,
        user=user,
        project=fg.project,
        params={"focus_group_id": str(fg.id), "force": force},
        queue="llm",
        total=fg.events.filter(kind__in=SPOKEN).count(),
    )


def extract_after_run(focus_group_id: str, *, user: User | None) -> Job | None:
    """Po przebiegu: ekstrakcja startuje sama, gdy dyskusja się zakończyła i ma wypowiedzi."""
    fg = FocusGroup.objects.select_related("project").get(pk=focus_group_id)
    if fg.status != FocusGroup.Status.COMPLETED or not fg.events.filter(kind__in=SPOKEN).exists():
        return None
    return start_extraction(fg, user=user)


def latest_job(fg: FocusGroup) -> Job | None:
    """Ostatnie zadanie ekstrakcji grupy (stan na stronie wniosków)."""
    return Job.objects.filter(kind=JOB_KIND, params__focus_group_id=str(fg.id)).order_by("-created_at").first()


@dataclass
class TurnTask:
    """Wypowiedź do analizy z kontekstem: pytanie i wcześniejsze wypowiedzi w nim."""

    event: FocusGroupEvent
    question: str
    earlier: list[FocusGroupEvent]


def extract(job: Job) -> dict[str, Any]:
    """Obsługa zadania `focus_groups.concepts`: analiza wypowiedzi, zapis w PostgreSQL, potem zapis grupy w grafie."""
    from focus_groups import graph as fg_graph

    fg = FocusGroup.objects.select_related("project").get(pk=job.params["focus_group_id"])
    if job.params.get("force"):
        clear_extraction(fg)
    tasks = pending_turns(fg)
    canon = Canonicaliser(fg.project)
    # Jedna pętla na zadanie (`llm.run_in_loop`): wiersze LLMCall zapisują się w tle partiami, klienci HTTP pętli są
    # zamykani na końcu.
    llm.run_in_loop(_analyse_all, fg, job, tasks, canon)
    graph_state = graph.write_or_defer(lambda: fg_graph.write_focus_group(fg), f"focus group {fg.id}")
    statuses = dict(
        TurnExtraction.objects.filter(focus_group=fg).values_list("status").annotate(n=Count("id")).order_by()
    )
    return {
        "analysed": len(tasks),
        "done": statuses.get(TurnExtraction.Status.DONE, 0),
        "skipped": statuses.get(TurnExtraction.Status.SKIPPED, 0),
        "graph": graph_state,
    }


def clear_extraction(fg: FocusGroup) -> None:
    """Usuwa wyniki ekstrakcji grupy (przed analizą od nowa); pojęcia projektu zostają."""
    with transaction.atomic():
        for model in (ConceptMention, TurnRelation, TurnEmotion, TurnExtraction):
            model.objects.filter(focus_group=fg).delete()


def pending_turns(fg: FocusGroup) -> list[TurnTask]:
    """Wypowiedzi bez zapisanego wyniku, każda z pytaniem i wcześniejszymi wypowiedziami w nim (jedno zapytanie)."""
    spoken = list(fg.events.filter(kind__in=SPOKEN).select_related("extraction").order_by("seq"))
    questions = fg.question_texts()
    tasks, by_question = [], {}
    for event in spoken:
        earlier = by_question.setdefault(event.question_index, [])
        if not hasattr(event, "extraction"):
            qi = event.question_index
            question = questions[qi] if qi is not None and qi < len(questions) else ""
            tasks.append(TurnTask(event, question, earlier[-EARLIER_TURNS:]))
        earlier.append(event)
    return tasks


async def _analyse_all(fg: FocusGroup, job: Job, tasks: list[TurnTask], canon: Canonicaliser) -> None:
    """Analiza wszystkich wypowiedzi równolegle w jednej pętli zdarzeń (współbieżność ogranicza limit roli w `llm`).

    Zapis w kolejności wypowiedzi (nazwa nowego pojęcia pochodzi zawsze z jego najwcześniejszej wzmianki), partiami:
    gotowe po kolei wyniki idą razem w jednej transakcji, więc wątek ORM (ten sam, który zapisuje wiersze LLMCall) nie
    stoi w kolejce za zapisem każdej tury osobno; ostatnia fala (nie więcej wywołań niż limit roli) idzie jednym
    zapisem. Postęp najwyżej co `PROGRESS_EVERY` s.
    """
    emotions = tuple(config.load_features().concepts.emotions) or ("interest",)
    last_wave = config.load_models().role(ROLE).concurrency
    pending = [asyncio.ensure_future(analyse_turn(fg, job, task, emotions)) for task in tasks]
    try:
        done = 0
        while done < len(tasks):
            # Ostatnia fala kończy się prawie naraz: jeden zapis po niej zamiast kilku jeden za drugim.
            await (asyncio.gather(*pending[done:]) if len(tasks) - done <= last_wave else pending[done])
            end = done + 1
            while end < len(tasks) and pending[end].done():
                end += 1
            batch = [(tasks[i], pending[i].result()) for i in range(done, end)]
            await sync_to_async(save_turns)(fg, batch, canon)
            done = end
            message = batch[-1][0].event.payload.get("persona_name", "")
            await sync_to_async(jobs.report_progress)(job, done=done, message=message, throttle=PROGRESS_EVERY)
    finally:
        for future in pending:  # anulowanie albo błąd: reszta wywołań nie wisi w tle
            future.cancel()


async def analyse_turn(fg: FocusGroup, job: Job, task: TurnTask, emotions: tuple[str, ...]) -> BaseModel | str:
    """Wynik analizy wypowiedzi albo powód pominięcia (odpowiedź nie pasowała do schematu także po ponownym pytaniu)."""
    earlier = "\n".join(f"[{e.seq}] {e.payload.get('persona_name', '')}: {e.text}" for e in task.earlier) or "-"
    variables = {
        "text": task.event.text,
        "language_name": fg.project.language_name,
        "speaker": task.event.payload.get("persona_name", ""),
        "question": task.question or "-",
        "earlier": earlier,
        "emotions": ", ".join(emotions),
    }
    schema = analysis_schema(emotions, relations=bool(task.earlier))
    try:
        with grounded_in(task.event.text, frozenset(e.seq for e in task.earlier)):
            return await llm.agenerate(
                ROLE, prompt=ROLE, language=fg.project.language, variables=variables, schema=schema, job=job
            )
    except llm.LLMOutputError as exc:
        return f"{type(exc).__name__}: {exc}"[:1000]


def save_turns(fg: FocusGroup, batch: list[tuple[TurnTask, BaseModel | str]], canon: Canonicaliser) -> None:
    """Zapisuje wyniki partii wypowiedzi w jednej transakcji, po jednym wstawieniu na tabelę; nazwy pojęć całej partii
    są kanonizowane razem, w kolejności wypowiedzi.

    Partia to wypowiedzi bez zapisanego wyniku (`pending_turns`; `force` czyści wszystko wcześniej), a wzmianki, emocje
    i odniesienia powstają tylko w tej samej transakcji co wynik, więc nie ma czego usuwać. Gdy dwa zadania tej samej
    grupy analizują naraz, wygrywa pierwszy zapis (konflikty unikalności są pomijane), a wynik tury jest nadpisywany.
    """
    done = [(task, result) for task, result in batch if not isinstance(result, str)]
    with transaction.atomic():
        TurnExtraction.objects.bulk_create(
            (
                TurnExtraction(
                    event=task.event,
                    focus_group=fg,
                    status=TurnExtraction.Status.SKIPPED if isinstance(result, str) else TurnExtraction.Status.DONE,
                    reason=result if isinstance(result, str) else "",
                )
                for task, result in batch
            ),
            update_conflicts=True,
            unique_fields=["event"],
            update_fields=["focus_group", "status", "reason"],
        )
        resolved = canon.resolve_many(m.name for _, result in done for m in result.concepts)
        ConceptMention.objects.bulk_create(
            (m for task, result in done for m in _mentions(fg, task, result, resolved)), ignore_conflicts=True
        )
        TurnEmotion.objects.bulk_create(
            (
                TurnEmotion(event=task.event, focus_group=fg, emotion=e)
                for task, result in done
                for e in dict.fromkeys(result.emotions)
            ),
            ignore_conflicts=True,
        )
        TurnRelation.objects.bulk_create(
            (r for task, result in done for r in _relations(fg, task, result)), ignore_conflicts=True
        )


def _mentions(
    fg: FocusGroup, task: TurnTask, result: BaseModel, resolved: dict[str, Concept | None]
) -> list[ConceptMention]:
    """Wzmianki jednej wypowiedzi: cytat jeszcze raz sprawdzony, jedno pojęcie raz (pierwsza, najważniejsza wzmianka —
    drugi raz to samo pojęcie w jednej wypowiedzi to zwykle dwie odmiany).
    """
    event, haystack, mentions = task.event, same_text(task.event.text), {}
    for mention in result.concepts:
        concept = resolved[mention.name]
        if concept is None or concept.id in mentions or same_text(mention.quote) not in haystack:
            continue
        mentions[concept.id] = ConceptMention(
            event=event, concept=concept, focus_group=fg, stance=mention.stance, quote=mention.quote
        )
    return list(mentions.values())


def _relations(fg: FocusGroup, task: TurnTask, result: BaseModel) -> list[TurnRelation]:
    """Odniesienia wypowiedzi tylko do pokazanych wcześniejszych wypowiedzi; przy powtórzonym numerze — pierwsze."""
    targets = {e.seq: e for e in task.earlier}
    relations = {r.turn: r.relation for r in reversed(result.relations) if r.turn in targets}
    return [
        TurnRelation(event=task.event, target=targets[seq], focus_group=fg, relation=relation)
        for seq, relation in sorted(relations.items())
    ]
