"""Warstwa LLM: modele czatu i embeddingów per rola, jedno API wywołań z ponowieniami, cache, budżetem i zapisem użycia.

Kod domenowy woła `agenerate`/`generate` z nazwą roli (`config/models.yaml`), wiadomościami albo nazwą promptu i
opcjonalnym schematem pydantic. Dostawcy: `google` (Gemini), `openai` (serwer zgodny z OpenAI), `offline`
(deterministyczny, bez sieci) i `fake` (skryptowany w testach przez `script`).
"""

from __future__ import annotations

import asyncio
import collections
import email.utils
import functools
import hashlib
import importlib
import json
import logging
import math
import random
import re
import ssl
import threading
import time
import weakref
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, overload

from asgiref.sync import async_to_sync, sync_to_async
from django.conf import settings
from django.core.cache import cache as django_cache
from django.core.exceptions import ImproperlyConfigured
from langchain_core.embeddings import Embeddings
from langchain_core.exceptions import ModelError
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.runnables import Runnable
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import BaseModel, Field, ValidationError
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt, wait_exponential_jitter

import config

if TYPE_CHECKING:
    from sight.models import Job, Project

log = logging.getLogger(__name__)

MessagesLike = str | tuple[str, str] | Sequence[BaseMessage]
# str | dict | BaseModel | AIMessage | BaseException | Callable[[list[BaseMessage]], Scripted | Awaitable[Scripted]]
Scripted = Any

MAX_RETRY_HINT_SECONDS = 60.0
CACHE_VERSION = "llm:v1"
TRANSIENT_STATUS = frozenset({408, 429, 500, 502, 503, 504})


# --- błędy ---------------------------------------------------------------------------------------------------------


class LLMError(Exception):
    """Błąd warstwy LLM (klasa bazowa dla kodu domenowego)."""


class LLMCallError(LLMError):
    """Wywołanie dostawcy nie powiodło się (po ponowieniach albo błąd nieprzejściowy)."""


class LLMOutputError(LLMError):
    """Odpowiedź nie pasuje do schematu także po ponownych pytaniach."""

    def __init__(self, role: str, problems: list[str], raw: str) -> None:
        self.role, self.problems, self.raw = role, problems, raw
        super().__init__(f"role {role!r}: invalid output after {len(problems)} attempt(s): {problems[-1]}")


class BudgetExceeded(LLMError):
    """Budżet tokenów projektu nie wystarcza na kolejne wywołanie."""


class ScriptExhausted(LLMError):
    """Skrypt dostawcy `fake` nie ma już odpowiedzi (test wywołał model częściej, niż zakładał)."""


# --- role i dostawcy -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """Rozwiązana rola: ustawienia z config, dostawca i nazwa modelu zapisywana w LLMCall."""

    cfg: config.ResolvedRole
    provider: str
    model: str

    @property
    def role(self) -> str:
        """Nazwa roli."""
        return self.cfg.name


def resolve(role: str) -> Target:
    """Ustawienia roli z `models.yaml` i dostawca (z roli albo SIGHT_LLM_PROVIDER)."""
    cfg = config.load_models().role(role)
    provider = cfg.provider or settings.SIGHT_LLM_PROVIDER
    if provider not in ("google", "openai", "offline", "fake"):
        raise ImproperlyConfigured(f"unknown LLM provider {provider!r} (SIGHT_LLM_PROVIDER)")
    model = {"openai": settings.SIGHT_LLM_MODEL or cfg.model, "offline": "offline"}.get(provider, cfg.model)
    return Target(cfg=cfg, provider=provider, model=model)


_PROVIDER_MODULES = {
    "openai": ("openai", "openai.resources.chat.completions", "langchain_openai"),
    "google": ("langchain_google_genai",),
}


def preload_providers() -> None:
    """Importuje biblioteki klientów dostawców używanych przez role i wczytuje prompty (raz w procesie workera)."""
    for provider in {resolve(role).provider for role in config.load_models().roles}:
        for module in _PROVIDER_MODULES.get(provider, ()):
            importlib.import_module(module)
    config.load_prompts()


def build_chat_model(role: str) -> BaseChatModel:
    """Model czatu LangChain dla roli; klient dostawcy bez własnych ponowień (ponawia `agenerate`)."""
    return _build(resolve(role))


def _build(target: Target, *, http_async_client: Any = None) -> BaseChatModel:
    cfg = target.cfg
    if target.provider == "google":
        from langchain_google_genai import ChatGoogleGenerativeAI

        if not settings.GOOGLE_API_KEY:
            raise ImproperlyConfigured("LLM provider 'google' needs GOOGLE_API_KEY")
        # max_retries=1 to w google-genai jedna próba (0 oznacza domyślne ponowienia SDK). W Gemini 2.5 Flash tokeny
        # „myślenia” liczą się do max_output_tokens: krótkie role (smoke, stance) byłyby ucinane, więc je wyłączamy.
        thinking = 0 if target.model.startswith("gemini-2.5-flash") else None
        return ChatGoogleGenerativeAI(
            model=target.model,
            google_api_key=settings.GOOGLE_API_KEY,
            temperature=cfg.temperature,
            max_output_tokens=cfg.max_tokens,
            timeout=cfg.timeout,
            max_retries=1,
            thinking_budget=thinking,
        )
    if target.provider == "openai":
        import openai
        from langchain_openai import ChatOpenAI

        # Własny klient async: bez niego langchain-openai daje wszystkim modelom jeden klient na proces, którego
        # połączenia należą do pierwszej pętli zdarzeń — w następnej pętli „Event loop is closed”. W pętli zadania
        # modele ról dzielą klienta tej pętli, a `aclose_loop_clients` zamyka go na jej końcu. (Klient synchroniczny
        # zostaje wspólny: nie jest związany z pętlą.)
        return ChatOpenAI(
            model=target.model,
            base_url=settings.SIGHT_LLM_BASE_URL or None,
            api_key=settings.SIGHT_LLM_API_KEY,
            temperature=cfg.temperature,
            max_tokens=cfg.max_tokens,
            timeout=cfg.timeout,
            max_retries=0,
            http_client=_openai_sync_client(),
            http_async_client=http_async_client or openai.DefaultAsyncHttpxClient(verify=_ssl_context()),
        )
    if target.provider == "offline":
        return OfflineChatModel(role=cfg.name)
    return ScriptedChatModel(role=cfg.name)


@cache
def _ssl_context() -> ssl.SSLContext:
    """Kontekst TLS raz na proces: wczytanie certyfikatów CA to dziesiątki ms CPU przy każdym nowym kliencie HTTP."""
    return ssl.create_default_context()


@cache
def _openai_sync_client() -> Any:
    """Jeden synchroniczny klient HTTP na proces dla modeli openai (niezwiązany z pętlą; langchain-openai budowałby
    osobny dla każdego timeoutu roli)."""
    import openai

    return openai.DefaultHttpxClient(verify=_ssl_context())


def _structured(model: BaseChatModel, target: Target, schema: type[BaseModel]) -> Runnable:
    if target.provider == "openai":
        # Serwery lokalne (Ollama, llama.cpp, vLLM) odrzucają json_schema: wywołanie funkcji, jak
        # with_structured_output(method="function_calling"), ale z narzędziem policzonym raz — tamto przelicza schemat
        # JSON przy każdym wywołaniu (metadane LangSmith) i parsuje wynik, który `_parse` i tak waliduje sam.
        tool = _openai_tool(schema)
        return model.bind_tools([tool], tool_choice=tool["function"]["name"], parallel_tool_calls=False)
    # Gemini ma natywny tryb JSON.
    return model.with_structured_output(schema, include_raw=True)


@functools.lru_cache(maxsize=256)
def _openai_tool(schema: type[BaseModel]) -> dict[str, Any]:
    return convert_to_openai_tool(schema)


_loop_runnables: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[Any, ...], Runnable]] = (
    weakref.WeakKeyDictionary()
)


def _runnable_for_loop(target: Target, schema: type[BaseModel] | None) -> Runnable:
    """Model (ze schematem odpowiedzi) budowany raz na pętlę: budowa narzędzia ze schematu to kilka ms CPU na pętli
    zdarzeń.
    """
    model = _model_for_loop(target)
    if schema is None:
        return model
    runnables = _loop_runnables.setdefault(asyncio.get_running_loop(), {})
    key = (target.provider, target.role, target.model, schema)
    if key not in runnables:
        runnables[key] = (
            _OfflineStructured(model, schema)
            if isinstance(model, OfflineChatModel)
            else _structured(model, target, schema)
        )
    return runnables[key]


class _OfflineStructured:
    """Offline ze schematem bez parsera LangChain: `_parse` i tak waliduje surowe wywołanie narzędzia, a narzut
    Runnable (~5 ms CPU na wywołanie) szeregowałby równoległe wywołania, które w trybie offline kończą się
    jednocześnie."""

    def __init__(self, model: OfflineChatModel, schema: type[BaseModel]) -> None:
        self.model, self.tools = model, [convert_to_openai_tool(schema)]

    async def ainvoke(self, messages: list[BaseMessage]) -> AIMessage:
        """Odpowiedź modelu offline jako wywołanie narzędzia schematu."""
        result = await self.model._agenerate(messages, tools=self.tools)
        return result.generations[0].message  # type: ignore[return-value]


_loop_models: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[str, str, str], BaseChatModel]] = (
    weakref.WeakKeyDictionary()
)
_loop_limiters: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Semaphore]] = (
    weakref.WeakKeyDictionary()
)


def _model_for_loop(target: Target) -> BaseChatModel:
    """Jeden model (i pula połączeń klienta async) na pętlę zdarzeń i rolę."""
    loop = asyncio.get_running_loop()
    models = _loop_models.setdefault(loop, {})
    key = (target.provider, target.role, target.model)
    if key not in models:
        shared = next((getattr(m, "http_async_client", None) for m in models.values()), None)
        if target.provider == "openai" and shared is None:
            import openai

            shared = openai.DefaultAsyncHttpxClient(verify=_ssl_context())
        models[key] = _build(target, http_async_client=shared if target.provider == "openai" else None)
    return models[key]


async def aclose_loop_clients() -> None:
    """Zamyka klientów HTTP modeli zbudowanych w bieżącej pętli i zapomina jej modele (połączenia należą do pętli)."""
    loop = asyncio.get_running_loop()
    models = _loop_models.pop(loop, {})
    _loop_runnables.pop(loop, None)
    _loop_limiters.pop(loop, None)
    for model in models.values():
        try:
            await _close_model(model)
        except Exception:  # noqa: BLE001 - niedomknięty klient to wyciek połączeń, nie błąd zadania
            log.warning("could not close the HTTP client of %s", type(model).__name__, exc_info=True)


async def _close_model(model: BaseChatModel) -> None:
    if (aclose := getattr(model, "aclose", None)) is not None:  # Gemini: pule google-genai tej pętli
        await aclose()
    elif (client := getattr(model, "root_async_client", None)) is not None:  # OpenAI: klient async pętli z `_build`
        await client.close()


def run_in_loop[T](func: Callable[..., Awaitable[T]], /, *args: Any, **kwargs: Any) -> T:
    """Jedna pętla zdarzeń na zadanie: uruchamia korutynę w nowej pętli i na końcu zamyka klientów HTTP tej pętli.

    Nowa pętla zawsze (także wołane z wątku `sync_to_async`), bo zamykamy klientów, których nikt inny nie używa.
    """

    async def scoped() -> T:
        try:
            return await func(*args, **kwargs)
        finally:
            await aclose_loop_clients()

    return async_to_sync(scoped, force_new_loop=True)()


def limiter(role: str) -> asyncio.Semaphore:
    """Semafor roli w bieżącej pętli (rozmiar: `concurrency`); `agenerate` sam go używa, więc `asyncio.gather` jest
    bezpieczny.
    """
    limiters = _loop_limiters.setdefault(asyncio.get_running_loop(), {})
    if role not in limiters:
        limiters[role] = asyncio.Semaphore(config.load_models().role(role).concurrency)
    return limiters[role]


# --- wiadomości ----------------------------------------------------------------------------------------------------


def prompt_messages(name: str, language: str, /, **variables: Any) -> list[BaseMessage]:
    """Wiadomości (system, user) z promptu `config/prompts/<język>/<name>.yaml` (zmienne mogą się nazywać dowolnie)."""
    system, user = config.load_prompts().get(name, language).render(**variables)
    return [SystemMessage(system), HumanMessage(user)]


def to_messages(messages: MessagesLike) -> list[BaseMessage]:
    """Normalizuje tekst, parę (system, user) albo listę wiadomości LangChain."""
    if isinstance(messages, str):
        return [HumanMessage(messages)]
    if isinstance(messages, tuple) and len(messages) == 2 and all(isinstance(m, str) for m in messages):
        return [SystemMessage(messages[0]), HumanMessage(messages[1])]
    result = list(messages)
    if not result or not all(isinstance(m, BaseMessage) for m in result):
        raise TypeError("messages must be a str, a (system, user) pair or a non-empty sequence of BaseMessage")
    return result


def estimate_tokens(text: str) -> int:
    """Przybliżona liczba tokenów (≈4 znaki na token), gdy dostawca jej nie podaje."""
    return math.ceil(len(text) / 4)


def _messages_text(messages: Sequence[BaseMessage]) -> str:
    return "\n".join(m.text for m in messages)


# --- wywołanie: API wysokiego poziomu ------------------------------------------------------------------------------


@dataclass
class _Tally:
    """Liczniki jednego logicznego wywołania (z ponowieniami i ponownymi pytaniami)."""

    input_tokens: int = 0
    output_tokens: int = 0
    attempts: int = 0

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens


@overload
async def agenerate[M: BaseModel](
    role: str,
    messages: MessagesLike | None = None,
    *,
    schema: type[M],
    prompt: str | None = None,
    language: str = "pl",
    variables: dict[str, Any] | None = None,
    project: Project | None = None,
    job: Job | None = None,
    cache: bool = True,
) -> M: ...
@overload
async def agenerate(
    role: str,
    messages: MessagesLike | None = None,
    *,
    schema: None = None,
    prompt: str | None = None,
    language: str = "pl",
    variables: dict[str, Any] | None = None,
    project: Project | None = None,
    job: Job | None = None,
    cache: bool = True,
) -> str: ...
async def agenerate(
    role: str,
    messages: MessagesLike | None = None,
    *,
    schema: type[BaseModel] | None = None,
    prompt: str | None = None,
    language: str = "pl",
    variables: dict[str, Any] | None = None,
    project: Project | None = None,
    job: Job | None = None,
    cache: bool = True,
) -> BaseModel | str:
    """Jedno wywołanie roli: cache, budżet, limit współbieżności, timeout, ponowienia, walidacja schematu, zapis
    LLMCall.
    """
    target = resolve(role)
    if (messages is None) == (prompt is None):
        raise TypeError("pass either messages or prompt=")
    msgs = (
        to_messages(messages) if messages is not None else prompt_messages(prompt or "", language, **(variables or {}))
    )
    if project is None and job is not None and job.project_id is not None:
        project = await sync_to_async(lambda: job.project)()
    started = time.monotonic()
    key = _cache_key(target, msgs, schema) if cache and config.load_features().llm_cache else None
    if key is not None:
        hit = await _cache_get(key, schema)
        if hit is not None:
            await _record(target, project, job, _Tally(), started, cache_hit=True)
            return hit
    tally, budget = _Tally(), _Budget(project)
    try:
        async with limiter(role):
            value = await _converse(target, msgs, schema, tally, budget)
    except Exception as exc:
        if tally.attempts:
            await _record(target, project, job, tally, started, error=f"{type(exc).__name__}: {exc}")
        raise
    else:
        await _record(target, project, job, tally, started)
    finally:
        # Rezerwację zwalniamy dopiero po zapisie LLMCall: wtedy zużycie widać w budget_left().
        budget.release()
    if key is not None:
        await _cache_set(key, value)
    return value


@overload
def generate[M: BaseModel](
    role: str,
    messages: MessagesLike | None = None,
    *,
    schema: type[M],
    prompt: str | None = None,
    language: str = "pl",
    variables: dict[str, Any] | None = None,
    project: Project | None = None,
    job: Job | None = None,
    cache: bool = True,
) -> M: ...
@overload
def generate(
    role: str,
    messages: MessagesLike | None = None,
    *,
    schema: None = None,
    prompt: str | None = None,
    language: str = "pl",
    variables: dict[str, Any] | None = None,
    project: Project | None = None,
    job: Job | None = None,
    cache: bool = True,
) -> str: ...
def generate(role: str, messages: MessagesLike | None = None, **kwargs: Any) -> BaseModel | str:
    """Synchroniczna wersja `agenerate` (kod poza pętlą zdarzeń, np. zadanie z jednym wywołaniem)."""
    return run_in_loop(agenerate, role, messages, **kwargs)


async def _converse(
    target: Target, msgs: list[BaseMessage], schema: type[BaseModel] | None, tally: _Tally, budget: _Budget
) -> BaseModel | str:
    """Pytanie i ograniczone ponowne pytania, gdy odpowiedź nie pasuje do schematu."""
    runnable = _runnable_for_loop(target, schema)
    conversation, problems, answer = list(msgs), [], ""
    for _ in range(target.cfg.reasks + 1):
        await budget.admit(estimate_tokens(_messages_text(conversation)) + target.cfg.max_tokens, spent=tally.tokens)
        output = await _ask(runnable, conversation, target, tally)
        value, answer, problem = _parse(output, schema)
        if problem is None:
            return value
        problems.append(problem)
        conversation = [*msgs, AIMessage(answer or "(empty)"), HumanMessage(_reask_text(problem, schema))]
    raise LLMOutputError(target.role, problems, answer)


async def _ask(runnable: Runnable, conversation: list[BaseMessage], target: Target, tally: _Tally) -> Any:
    """Jedno żądanie z jedną polityką ponowień: twardy stop, wykładnicze czekanie z jitterem, podpowiedzi 429."""
    retrying = AsyncRetrying(
        stop=stop_after_attempt(target.cfg.max_attempts),
        wait=_wait,
        retry=retry_if_exception(is_transient),
        sleep=backoff_sleep,
        reraise=True,
    )
    try:
        async for attempt in retrying:
            with attempt:
                tally.attempts += 1
                output = await asyncio.wait_for(runnable.ainvoke(conversation), timeout=target.cfg.timeout)
    except LLMError:
        raise
    except Exception as exc:
        kind = "timed out" if isinstance(exc, TimeoutError) else f"{type(exc).__name__}: {exc}"
        raise LLMCallError(
            f"role {target.role!r} ({target.provider}/{target.model}) failed after {tally.attempts} attempt(s): {kind}"[
                :2000
            ]
        ) from exc
    raw = output["raw"] if isinstance(output, dict) else output
    usage = getattr(raw, "usage_metadata", None) or {}
    tally.input_tokens += int(usage.get("input_tokens") or estimate_tokens(_messages_text(conversation)))
    tally.output_tokens += int(usage.get("output_tokens") or estimate_tokens(_answer_text(raw)))
    return output


def _answer_text(raw: Any) -> str:
    if not isinstance(raw, AIMessage):
        return str(raw or "")
    if raw.tool_calls:
        return json.dumps(raw.tool_calls[0]["args"], ensure_ascii=False)
    if raw.invalid_tool_calls:
        return str(raw.invalid_tool_calls[0].get("args") or "")
    return raw.text


_TRUNCATED = frozenset({"MAX_TOKENS", "length"})
_FENCES = re.compile(r"^\s*```(?:json)?\s*|\s*```\s*$")


def _parse(output: Any, schema: type[BaseModel] | None) -> tuple[BaseModel | str, str, str | None]:
    """(wartość, surowa odpowiedź, problem albo None); JSON walidowany ściśle — ucięta odpowiedź to problem, nie
    wynik.
    """
    raw = output["raw"] if isinstance(output, dict) else output
    text = _answer_text(raw).strip()
    if isinstance(raw, AIMessage) and raw.response_metadata.get("finish_reason") in _TRUNCATED:
        return "", text, "the answer was cut off at the output token limit; answer more briefly"
    if schema is None:
        return text, text, None if text else "the answer was empty"
    try:
        if isinstance(raw, AIMessage) and raw.tool_calls:
            return schema.model_validate(raw.tool_calls[0]["args"]), text, None
        if isinstance(raw, AIMessage) and raw.invalid_tool_calls:
            return (
                "",
                text,
                f"the tool call arguments were not valid JSON: {raw.invalid_tool_calls[0].get('error') or text[:200]}",
            )
        if not text:
            return "", text, "no structured answer was returned"
        return schema.model_validate_json(_FENCES.sub("", text)), text, None
    except ValidationError as exc:
        return "", text, describe_problem(exc)


def describe_problem(error: BaseException) -> str:
    """Krótki opis, co było nie tak z odpowiedzią (trafia do ponownego pytania i do LLMCall.error)."""
    validation = next((e for e in _chain(error) if isinstance(e, ValidationError)), None)
    if validation is not None:
        parts = [f"{'.'.join(str(p) for p in err['loc']) or '(root)'}: {err['msg']}" for err in validation.errors()[:6]]
        return "schema validation failed — " + "; ".join(parts)
    return f"{type(error).__name__}: {error}"[:600]


def _reask_text(problem: str, schema: type[BaseModel] | None) -> str:
    if schema is None:
        return f"Your previous answer could not be used: {problem}. Answer the request again."
    return (
        f"Your previous answer did not match the required schema: {problem}. Answer again with a complete, valid "
        f"{schema.__name__} object, respecting every field type and length limit."
    )


# --- ponowienia ----------------------------------------------------------------------------------------------------


async def backoff_sleep(seconds: float) -> None:
    """Czekanie między próbami (w testach podmieniane, by nie spać naprawdę)."""
    await asyncio.sleep(seconds)


_exponential = wait_exponential_jitter(initial=1, max=30, jitter=1)


def _wait(state: RetryCallState) -> float:
    """Czas do następnej próby: podpowiedź 429 (z limitem i 10% jitterem) albo backoff wykładniczy."""
    exc = state.outcome.exception() if state.outcome else None
    hint = retry_hint(exc) if exc is not None else None
    if hint is not None:
        return min(hint, MAX_RETRY_HINT_SECONDS) * (1 + random.uniform(0, 0.1))
    return _exponential(state)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _status(exc: BaseException) -> int | None:
    for attr in ("status_code", "code"):
        value = getattr(exc, attr, None)
        if isinstance(value, int) and 100 <= value < 600:
            return value
    return None


def is_transient(exc: BaseException) -> bool:
    """Czy błąd jest przejściowy (timeout, połączenie, 429, 5xx), więc warto ponowić."""
    for err in _chain(exc):
        if isinstance(err, LLMError):
            return False
        if isinstance(err, ModelError):
            return err.is_retryable
        if isinstance(err, (TimeoutError, ConnectionError, *_transport_errors())):
            return True
        status = _status(err)
        if status is not None:
            return status in TRANSIENT_STATUS
    return False


@cache
def _transport_errors() -> tuple[type[BaseException], ...]:
    """Błędy transportu klientów HTTP dostawców (httpx, httpx2, openai)."""
    found: list[type[BaseException]] = []
    for module, name in (("httpx", "TransportError"), ("httpx2", "TransportError"), ("openai", "APIConnectionError")):
        try:
            found.append(getattr(__import__(module), name))
        except (ImportError, AttributeError):
            continue
    return tuple(found)


_RETRY_DELAY = re.compile(r"""retryDelay['"]?\s*:\s*['"](\d+(?:\.\d+)?)s""")
_RETRY_IN = re.compile(r"[Rr]etry in (\d+(?:\.\d+)?)\s*s")


def retry_hint(exc: BaseException) -> float | None:
    """Sekundy z nagłówka Retry-After albo z RetryInfo.retryDelay Gemini w łańcuchu wyjątku."""
    for err in _chain(exc):
        headers = getattr(getattr(err, "response", None), "headers", None)
        if headers is not None and (value := headers.get("retry-after")):
            seconds = _parse_retry_after(str(value))
            if seconds is not None:
                return seconds
        for source in (getattr(err, "details", None), getattr(err, "body", None), str(err)):
            text = source if isinstance(source, str) else json.dumps(source, default=str) if source else ""
            if match := _RETRY_DELAY.search(text) or _RETRY_IN.search(text):
                return float(match.group(1))
    return None


def _parse_retry_after(value: str) -> float | None:
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, (email.utils.parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds())
    except (TypeError, ValueError):
        return None


# --- cache, zapis użycia, budżet -----------------------------------------------------------------------------------


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
        # Klient Redisa jest bezpieczny wątkowo: odczyt poza wątkiem ORM nie czeka w kolejce za zapisami do bazy.
        cached = await sync_to_async(django_cache.get, thread_sensitive=False)(key)
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
        await sync_to_async(django_cache.set, thread_sensitive=False)(key, stored, timeout=settings.SIGHT_LLM_CACHE_TTL)
    except Exception:  # noqa: BLE001 - jw.
        log.warning("LLM cache write failed", exc_info=True)


def cost_usd(model: str, input_tokens: int, output_tokens: int) -> Decimal:
    """Koszt wywołania wg cennika z `models.yaml` (USD, 6 miejsc po przecinku)."""
    price = config.load_models().price(model)
    cost = Decimal(input_tokens) * Decimal(str(price.input_per_million)) + Decimal(output_tokens) * Decimal(
        str(price.output_per_million)
    )
    return (cost / Decimal(1_000_000)).quantize(Decimal("0.000001"))


async def _record(
    target: Target,
    project: Project | None,
    job: Job | None,
    tally: _Tally,
    started: float,
    *,
    cache_hit: bool = False,
    error: str = "",
) -> None:
    """Zapisuje wiersz LLMCall (ORM synchroniczny w wątku, pętla zdarzeń nie czeka na bazę)."""
    from sight.models import LLMCall

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
    try:
        await sync_to_async(LLMCall.objects.create)(**fields)
        if project is not None:
            _Budget.note_spent(project.pk, tally.tokens)
    except Exception:
        if not error:
            raise
        log.exception("could not record failed LLM call for role %s", target.role)


class _Budget:
    """Pilnuje budżetu tokenów projektu; rezerwacje w procesie chronią przed przekroczeniem przez równoległe
    wywołania.
    """

    _lock = threading.Lock()
    _reserved: collections.Counter[Any] = collections.Counter()
    # Zużycie projektu z bazy, odświeżane co REFRESH sekund i powiększane o wywołania zapisane w tym procesie:
    # zapytanie SUM przy każdym wywołaniu kolejkowałoby się za zapisami w wątku ORM i spowalniało równoległe
    # generowanie.
    _used: ClassVar[dict[Any, tuple[float, int]]] = {}
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
        now = time.monotonic()
        with cls._lock:
            entry = cls._used.get(project.pk)
        if entry is not None and now - entry[0] <= cls.REFRESH:
            return entry[1]
        used = await sync_to_async(project.tokens_used)()
        with cls._lock:
            cls._used[project.pk] = (now, used)
        return used

    @classmethod
    def note_spent(cls, project_pk: Any, tokens: int) -> None:
        """Dolicza zapisane właśnie zużycie do pamiętanej sumy projektu."""
        with cls._lock:
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


# --- wspólne dla dostawców offline i fake ----------------------------------------------------------------------------


def _with_usage(message: AIMessage, messages: list[BaseMessage]) -> AIMessage:
    inp, out = estimate_tokens(_messages_text(messages)), estimate_tokens(_answer_text(message))
    return message.model_copy(
        update={"usage_metadata": {"input_tokens": inp, "output_tokens": out, "total_tokens": inp + out}}
    )


class _ToolBindingMixin:
    """`bind_tools` jako zwykłe `bind(tools=...)`; dzięki temu działa `with_structured_output` z BaseChatModel."""

    def bind_tools(self, tools: Sequence[Any], *, tool_choice: Any = None, **kwargs: Any) -> Runnable:
        """Wiąże narzędzia (schemat odpowiedzi) z modelem."""
        return self.bind(tools=[convert_to_openai_tool(t) for t in tools], **kwargs)  # type: ignore[attr-defined]


# --- embeddingi ----------------------------------------------------------------------------------------------------


class WordLlamaEmbeddings(Embeddings):
    """Embeddingi offline z `wordllama` (statyczne wektory z koła pakietu, bez sieci), znormalizowane."""

    def __init__(self, dimension: int = 256) -> None:
        if not 8 <= dimension <= 256:
            raise ImproperlyConfigured("offline embeddings support at most 256 dimensions")
        self.dimension = dimension

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Wektory dokumentów."""
        if not texts:
            return []
        return _wordllama(self.dimension).embed(texts, norm=True).tolist()

    def embed_query(self, text: str) -> list[float]:
        """Wektor zapytania."""
        return self.embed_documents([text])[0]


@cache
def _wordllama(dimension: int) -> Any:
    import wordllama
    from wordllama import WordLlama

    # Domyślny loader szuka tokenizera w złym katalogu i próbuje pobierać z sieci; plik jest w kole pakietu.
    return WordLlama.load(
        cache_dir=Path(wordllama.__file__).parent,
        disable_download=True,
        trunc_dim=dimension if dimension < 256 else None,
    )


_KNOWN_DIMENSIONS = {
    "models/gemini-embedding-001": 3072,
    "gemini-embedding-001": 3072,
    "models/text-embedding-004": 768,
    "text-embedding-004": 768,
    "nomic-embed-text": 768,
}


def build_embeddings(role: str = "embeddings") -> Embeddings:
    """Model embeddingów: Gemini, serwer zgodny z OpenAI albo wordllama offline (także dla `fake`)."""
    provider = _embeddings_provider(role)
    cfg = config.load_models().embeddings
    if provider == "google":
        from langchain_google_genai import GoogleGenerativeAIEmbeddings

        if not settings.GOOGLE_API_KEY:
            raise ImproperlyConfigured("embeddings provider 'google' needs GOOGLE_API_KEY")
        return GoogleGenerativeAIEmbeddings(model=cfg.google_model, google_api_key=settings.GOOGLE_API_KEY)
    if provider == "openai":
        from langchain_openai import OpenAIEmbeddings

        return OpenAIEmbeddings(
            model=cfg.openai_model,
            base_url=settings.SIGHT_LLM_BASE_URL or None,
            api_key=settings.SIGHT_LLM_API_KEY,
            check_embedding_ctx_length=False,
            max_retries=1,
        )
    return WordLlamaEmbeddings(cfg.offline_dimensions)


def _embeddings_provider(role: str) -> str:
    models = config.load_models()
    configured = models.roles[role].provider if role in models.roles else None
    return configured or settings.SIGHT_LLM_PROVIDER


def embedding_dimension(role: str = "embeddings") -> int:
    """Wymiar wektorów modelu embeddingów roli (zapisywany z wektorami bazy wiedzy)."""
    provider, cfg = _embeddings_provider(role), config.load_models().embeddings
    if provider in ("offline", "fake"):
        return cfg.offline_dimensions
    name = cfg.google_model if provider == "google" else cfg.openai_model
    if name in _KNOWN_DIMENSIONS:
        return _KNOWN_DIMENSIONS[name]
    return len(build_embeddings(role).embed_query("dimension probe"))


# --- zadanie próbne ------------------------------------------------------------------------------------------------


class SmokeEcho(BaseModel):
    """Odpowiedź próbna: jedno zdanie powtórzone przez model."""

    sentence: str = Field(min_length=1, max_length=300, description="The sentence repeated verbatim.")


def run_smoke(job: Job) -> dict[str, Any]:
    """Zadanie `llm.smoke`: N kolejnych wywołań roli `smoke` ze schematem; wznowione pomija zrobione kroki."""
    from sight.jobs import report_progress

    total = int(job.params.get("calls", 5))
    done: set[int] = {int(i) for i in job.result.get("smoke_done", [])}
    answers: dict[str, str] = dict(job.result.get("smoke_answers", {}))
    report_progress(job, done=len(done), total=total)
    for step in range(total):
        if step in done:
            continue
        sentence = f"Sight smoke check {step + 1} of {total} is working."
        system = (
            "You are a connectivity check for a research tool. Return the user's sentence verbatim in "
            "the `sentence` field."
        )
        echo = generate(
            "smoke", (system, f"Repeat this sentence exactly: {sentence}"), schema=SmokeEcho, job=job, cache=False
        )
        done.add(step)
        answers[str(step)] = echo.sentence
        report_progress(job, done=len(done), total=total, result={"smoke_done": sorted(done), "smoke_answers": answers})
    target = resolve("smoke")
    return {
        "calls": total,
        "provider": target.provider,
        "model": target.model,
        "answers": [answers[str(i)] for i in range(total)],
    }


# Dostawcy bez sieci mieszkają w osobnych modułach; import na końcu, bo korzystają z pomocników powyżej.
from sight.llm.fake import ScriptedChatModel, reset_scripts, script, scripted_calls  # noqa: E402
from sight.llm.offline import OfflineChatModel, OfflineWriter  # noqa: E402

__all__ = [
    "BudgetExceeded",
    "LLMCallError",
    "LLMError",
    "LLMOutputError",
    "OfflineChatModel",
    "OfflineWriter",
    "ScriptExhausted",
    "ScriptedChatModel",
    "WordLlamaEmbeddings",
    "aclose_loop_clients",
    "agenerate",
    "build_chat_model",
    "build_embeddings",
    "cost_usd",
    "embedding_dimension",
    "generate",
    "limiter",
    "preload_providers",
    "prompt_messages",
    "reset_scripts",
    "resolve",
    "run_in_loop",
    "run_smoke",
    "script",
    "scripted_calls",
    "to_messages",
]
