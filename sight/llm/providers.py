"""Role i dostawcy: rozwiązanie roli z `models.yaml`, budowa modelu czatu, modele i semafory per pętla zdarzeń."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import importlib
import logging
import ssl
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from asgiref.sync import async_to_sync
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.runnables import Runnable
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import BaseModel

import config
from sight.llm.fake import ScriptedChatModel
from sight.llm.offline import OfflineChatModel
from sight.llm.usage import recording

log = logging.getLogger(__name__)


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
# Moduły, które biblioteki klientów HTTP wczytują dopiero przy pierwszym żądaniu w pętli zdarzeń.
_LAZY_MODULES = ("anyio._backends._asyncio", "langchain_core.tracers.context")


def preload_providers() -> None:
    """Importuje biblioteki klientów dostawców używanych przez role i wczytuje prompty oraz `features.yaml` (raz w
    procesie workera, zamiast w każdym zadaniu).
    """
    targets = [resolve(role) for role in config.load_models().roles]
    for provider in {target.provider for target in targets}:
        for module in _PROVIDER_MODULES.get(provider, ()):
            importlib.import_module(module)
    # Model openai zbudowany na próbę (i porzucony, zanim otworzy połączenie): leniwe importy zasobów czatu, transportu
    # HTTP i jego backendu asyncio (~0,1 s CPU) płaci proces workera, a nie pierwsze wywołanie każdego zadania.
    if any(target.provider == "openai" for target in targets):
        model = _build(next(target for target in targets if target.provider == "openai"))
        model.root_async_client.chat.completions  # type: ignore[attr-defined]  # noqa: B018 - import leniwy
        for module in _LAZY_MODULES:
            with contextlib.suppress(ImportError):
                importlib.import_module(module)
    config.load_prompts()
    config.load_features()
    # Pierwsza zamiana schematu na narzędzie i na schemat JSON leniwie importuje moduły pydantic i LangChain (~0,1 s):
    # płaci za to proces workera raz, a nie każde zadanie w swoim pierwszym wywołaniu ze schematem.
    _Warmup.model_json_schema()
    convert_to_openai_tool(_Warmup)


class _Warmup(BaseModel):
    """Schemat do rozgrzewki w `preload_providers`."""

    text: str = ""
    items: list[int] = []


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


def _structured(model: BaseChatModel, schema: type[BaseModel]) -> Runnable:
    # Gemini ma natywny tryb JSON.
    return model.with_structured_output(schema, include_raw=True)


class _OpenAIDirect:
    """Jedno żądanie `/chat/completions` modelu ChatOpenAI bez warstw, które na serwerze zgodnym z OpenAI kosztowały
    więcej CPU niż samo HTTP: Runnable i callbacki LangChain, transformacja treści żądania po typach w `create()`
    klienta openai, model pydantic odpowiedzi i przeskok do wątku przy jej zamianie na wiadomość (~3,5 ms z ~6 ms CPU
    na wywołanie, a odpowiedzi fali kończące się naraz czekają na siebie w jednej pętli zdarzeń).

    Treść żądania i wiadomość wynikową nadal buduje ChatOpenAI (`_get_request_payload`, `_create_chat_result`), a
    wysyła ją klient openai (adres, klucz, timeout, błędy HTTP jako `APIStatusError` z nagłówkami dla ponowień).
    Ze schematem: wywołanie funkcji wymuszone na jedno narzędzie (serwery lokalne — Ollama, llama.cpp, vLLM —
    odrzucają json_schema), narzędzie policzone raz na schemat; `_parse` waliduje jego argumenty sam.
    """

    def __init__(self, model: BaseChatModel, schema: type[BaseModel] | None) -> None:
        self.model, self.options = model, {}
        if schema is not None:
            tool = _openai_tool(schema)
            self.options = {
                "tools": [tool],
                "tool_choice": {"type": "function", "function": {"name": tool["function"]["name"]}},
                "parallel_tool_calls": False,
            }

    async def ainvoke(self, messages: list[BaseMessage]) -> AIMessage:
        """Odpowiedź serwera jako wiadomość LangChain (wywołania narzędzi, zużycie tokenów, powód końca)."""
        payload = self.model._get_request_payload(messages, **self.options)  # type: ignore[attr-defined]
        data = await self.model.root_async_client.post("/chat/completions", body=payload, cast_to=object)  # type: ignore[attr-defined]
        generation = self.model._create_chat_result(data).generations[0]  # type: ignore[attr-defined]
        message: AIMessage = generation.message
        message.response_metadata = {**(generation.generation_info or {}), **message.response_metadata}
        return message


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
    if schema is None and target.provider != "openai":
        return model
    runnables = _loop_runnables.setdefault(asyncio.get_running_loop(), {})
    key = (target.provider, target.role, target.model, schema)
    if key not in runnables:
        if target.provider == "openai":
            runnables[key] = _OpenAIDirect(model, schema)
        elif isinstance(model, OfflineChatModel):
            runnables[key] = _OfflineStructured(model, schema)
        else:
            runnables[key] = _structured(model, schema)
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
            async with recording():
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
