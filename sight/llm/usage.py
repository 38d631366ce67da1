"""Cache odpowiedzi, koszt, zapis LLMCall i budżet tokenów projektu."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import contextvars
import functools
import hashlib
import json
import logging
import threading
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.cache import cache as django_cache
from langchain_core.messages import BaseMessage
from pydantic import BaseModel, ValidationError

import config
from sight.batches import GroupWriter
from sight.llm.base import BudgetExceeded

if TYPE_CHECKING:
    from sight.llm.providers import Target
    from sight.models import Job, Project

log = logging.getLogger(__name__)
CACHE_VERSION = "llm:v1"


@dataclass
class _Tally:
    """Liczniki jednego logicznego wywołania (z ponowieniami i ponownymi pytaniami)."""

    input_tokens: int = 0
    output_tokens: int = 0
    attempts: int = 0

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens


# --- cache ------------------------------------------------------------------------------------------------------------


def _cache_key(target: Target, msgs: Sequence[BaseMessage], schema: type[BaseModel] | None) -> str:
    payload = {
        "provider": target.provider,
        "model": target.model,
        "role": target.role,
        "temperature": target.cfg.temperature,
        "max_tokens": target.cfg.max_tokens,
        "messages": [[m.type, m.content] for m in msgs],
        "schema": _schema_json(schema) if schema is not None else None,
    }
    return f"{CACHE_VERSION}:{hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()}"


@functools.lru_cache(maxsize=512)
def _schema_json(schema: type[BaseModel]) -> str:
    """Schemat JSON odpowiedzi (do klucza cache), liczony raz na klasę."""
    return json.dumps(schema.model_json_schema(), sort_keys=True)


async def _cache_get(key: str, schema: type[BaseModel] | None) -> BaseModel | str | None:
    try:
        # Wprost z pętli zdarzeń: GET po pętli zwrotnej trwa ułamek milisekundy, a przejście do puli wątków przy
        # fali równoległych wywołań — kilka do kilkunastu (czekanie na wolny wątek).
        cached = django_cache.get(key)
    except Exception:  # noqa: BLE001 - brak Redisa to brak cache, nie błąd wywołania
        log.warning("LLM cache read failed", exc_info=True)
        return None
    if cached is None:
        return None
    if schema is None:
        return cached if isinstance(cached, str) else None
    try:
        return schema.model_validate(cached)
    except ValidationError:
        return None


async def _cache_set(key: str, value: BaseModel | str) -> None:
    stored = value.model_dump(mode="json") if isinstance(value, BaseModel) else value
    try:
        django_cache.set(key, stored, timeout=settings.SIGHT_LLM_CACHE_TTL)  # jw.: bez przejścia do wątku
    except Exception:  # noqa: BLE001 - jw.
        log.warning("LLM cache write failed", exc_info=True)


# --- koszt i zapis użycia ---------------------------------------------------------------------------------------------


def cost_usd(model: str, input_tokens: int, output_tokens: int) -> Decimal:
    """Koszt wywołania wg cennika z `models.yaml` (USD, 6 miejsc po przecinku)."""
    price = config.load_models().price(model)
    cost = Decimal(input_tokens) * Decimal(str(price.input_per_million)) + Decimal(output_tokens) * Decimal(
        str(price.output_per_million)
    )
    return (cost / Decimal(1_000_000)).quantize(Decimal("0.000001"))


# Zapis LLMCall w tle (partiami) w zakresie `recording()`: wywołanie nie czeka na INSERT, a następne już trwa.
_recorder: contextvars.ContextVar[GroupWriter[tuple[dict[str, Any], _Budget | None], None] | None] = (
    contextvars.ContextVar("sight_llm_recorder", default=None)
)


@contextlib.asynccontextmanager
async def recording() -> AsyncIterator[None]:
    """Zakres (jedna pętla zadania), w którym wiersze LLMCall udanych wywołań zapisują się w tle, partiami; na wyjściu
    wszystkie są już w bazie (błąd zapisu podnosi się tutaj, chyba że zakres i tak kończy się błędem).
    """
    writer: GroupWriter[tuple[dict[str, Any], _Budget | None], None] = GroupWriter(_store_calls)
    token = _recorder.set(writer)
    try:
        yield
    except BaseException:
        try:
            await writer.drain()
        except Exception:
            log.exception("could not record LLM calls")
        raise
    else:
        await writer.drain()
    finally:
        _recorder.reset(token)


def _store_calls(batch: list[tuple[dict[str, Any], _Budget | None]]) -> list[None]:
    """Jedno INSERT dla partii wierszy LLMCall, potem zużycie do sumy projektu i zwolnienie rezerwacji budżetu."""
    from sight.models import LLMCall

    try:
        LLMCall.objects.bulk_create([LLMCall(**fields) for fields, _ in batch])
        for fields, _ in batch:
            if fields["project_id"] is not None:
                _Budget.note_spent(fields["project_id"], fields["input_tokens"] + fields["output_tokens"])
    finally:
        for _, budget in batch:
            if budget is not None:
                budget.release()
    return [None] * len(batch)


async def _record(
    target: Target,
    project: Project | None,
    job: Job | None,
    tally: _Tally,
    started: float,
    *,
    cache_hit: bool = False,
    error: str = "",
    budget: _Budget | None = None,
) -> None:
    """Zapisuje wiersz LLMCall, potem zwalnia rezerwację `budget` (zużycie widać już w `budget_left()`).

    Udane wywołanie w zakresie `recording()` idzie do zapisu w tle; poza nim (i nieudane) — od razu, w wątku ORM.
    """
    fields = {
        "project_id": project.pk if project is not None else None,
        "job_id": job.pk if job is not None else None,
        "role": target.role,
        "provider": target.provider,
        "model": target.model,
        "input_tokens": tally.input_tokens,
        "output_tokens": tally.output_tokens,
        "cost_usd": cost_usd(target.model, tally.input_tokens, tally.output_tokens),
        "latency_ms": int((time.monotonic() - started) * 1000),
        "cache_hit": cache_hit,
        "ok": not error,
        "error": error[:4000],
        "attempts": tally.attempts,
    }
    recorder = _recorder.get()
    if recorder is not None and not error:
        recorder.submit((fields, budget))
        return
    try:
        await sync_to_async(_store_calls)([(fields, budget)])
    except Exception:
        if not error:
            raise
        log.exception("could not record failed LLM call for role %s", target.role)


def job_usage(job: Job) -> dict[str, Any]:
    """Wywołania LLM zadania jednym zapytaniem: liczba, trafienia w cache, błędy, tokeny, koszt i łączny czas."""
    from django.db.models import Count, Q, Sum

    from sight.models import LLMCall

    totals = LLMCall.objects.filter(job=job).aggregate(
        calls=Count("id"),
        cache_hits=Count("id", filter=Q(cache_hit=True)),
        errors=Count("id", filter=Q(ok=False)),
        input_tokens=Sum("input_tokens", default=0),
        output_tokens=Sum("output_tokens", default=0),
        cost_usd=Sum("cost_usd", default=Decimal(0)),
        latency_ms=Sum("latency_ms", default=0),
    )
    tokens, latency_seconds = totals["input_tokens"] + totals["output_tokens"], totals["latency_ms"] / 1000
    return {**totals, "tokens": tokens, "latency_seconds": latency_seconds}


# --- budżet -----------------------------------------------------------------------------------------------------------


class _Budget:
    """Pilnuje budżetu tokenów projektu przed każdym żądaniem.

    Rezerwacje są w pamięci procesu: w jednym workerze równoległe wywołania nie przekroczą budżetu (kontrola dokładna),
    przy kilku workerach jest przybliżona — każdy widzi tylko zapisane już LLMCall pozostałych, a nie ich wywołania
    w toku.
    """

    _lock = threading.Lock()
    _reserved: collections.Counter[Any] = collections.Counter()
    # Zużycie projektu z bazy, odświeżane co REFRESH sekund w tle (wywołania biorą ostatnią znaną sumę, nie czekają na
    # zapytanie w kolejce wątku ORM) i powiększane o wywołania zapisane w tym procesie. Na sumę bez wpisu czeka się raz
    # na pętlę (jedno zapytanie dla całej fali wywołań).
    _used: ClassVar[dict[Any, tuple[float, int]]] = {}
    # Tokeny zapisane w tym procesie od startu (per projekt): odświeżenie dolicza to, co zapisano w trakcie zapytania.
    _stored: collections.Counter[Any] = collections.Counter()
    _refreshing: ClassVar[dict[tuple[int, Any], asyncio.Task[int]]] = {}
    REFRESH = 0.5

    def __init__(self, project: Project | None) -> None:
        self.project, self.held = project, 0

    async def admit(self, estimate: int, *, spent: int) -> None:
        """Sprawdza przed żądaniem, czy zostało dość tokenów (szacunek: wejście + max_tokens roli)."""
        project = self.project
        if project is None or project.token_budget is None:
            return
        left = project.token_budget - await self._tokens_used(project)
        with self._lock:
            others = self._reserved[project.pk] - self.held
            needed = spent + estimate
            if left - others < needed:
                self._release_locked()
                raise BudgetExceeded(
                    f"project {project.pk} token budget exhausted: {max(0, left - others - spent)} token(s) "
                    f"left, the next call may need up to {estimate}"
                )
            self._reserved[project.pk] = others + needed
            self.held = needed

    @classmethod
    async def _tokens_used(cls, project: Project) -> int:
        with cls._lock:
            entry = cls._used.get(project.pk)
        if entry is not None and time.monotonic() - entry[0] <= cls.REFRESH:
            return entry[1]
        key = (id(asyncio.get_running_loop()), project.pk)
        task = cls._refreshing.get(key)
        if task is None:
            task = asyncio.create_task(cls._refresh(project))
            cls._refreshing[key] = task
            task.add_done_callback(lambda _task: cls._refreshing.pop(key, None))
        if entry is not None:
            return entry[1]  # nieświeża suma teraz, nowa — gdy zapytanie wróci
        return await asyncio.shield(task)

    @classmethod
    async def _refresh(cls, project: Project) -> int:
        with cls._lock:
            stored_before = cls._stored[project.pk]
        started = time.monotonic()
        used = await sync_to_async(project.tokens_used)()
        with cls._lock:
            # Zapisane w trakcie zapytania mogły się w nim nie zmieścić: doliczone (najwyżej podwójnie, nigdy wcale).
            used += cls._stored[project.pk] - stored_before
            cls._used[project.pk] = (started, used)
        return used

    @classmethod
    def note_spent(cls, project_pk: Any, tokens: int) -> None:
        """Dolicza zapisane właśnie zużycie do pamiętanej sumy projektu."""
        with cls._lock:
            cls._stored[project_pk] += tokens
            if project_pk in cls._used:
                at, used = cls._used[project_pk]
                cls._used[project_pk] = (at, used + tokens)

    def release(self) -> None:
        """Zwalnia rezerwację (po zapisaniu LLMCall zużycie widać już w bazie)."""
        with self._lock:
            self._release_locked()

    def _release_locked(self) -> None:
        if self.project is not None and self.held:
            self._reserved[self.project.pk] -= self.held
            if self._reserved[self.project.pk] <= 0:
                del self._reserved[self.project.pk]
        self.held = 0
