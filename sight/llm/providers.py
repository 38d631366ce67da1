"""Role i dostawcy: rozwiązanie roli z `models.yaml`, budowa modelu czatu, modele i semafory per pętla zdarzeń."""

from __future__ import annotations

import asyncio
import weakref
from dataclasses import dataclass
from typing import Any

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


def build_chat_model(role: str) -> BaseChatModel:
    """Model czatu LangChain dla roli; klient dostawcy bez własnych ponowień (ponawia `agenerate`)."""
    return _build(resolve(role))


def _build(target: Target) -> BaseChatModel:
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
        from langchain_openai import ChatOpenAI

        return ChatOpenAI(
            model=target.model,
            base_url=settings.SIGHT_LLM_BASE_URL or None,
            api_key=settings.SIGHT_LLM_API_KEY,
            temperature=cfg.temperature,
            max_tokens=cfg.max_tokens,
            timeout=cfg.timeout,
            max_retries=0,
        )
    if target.provider == "offline":
        return OfflineChatModel(role=cfg.name)
    return ScriptedChatModel(role=cfg.name)


def _structured(model: BaseChatModel, target: Target, schema: type[BaseModel]) -> Runnable:
    # Serwery lokalne (Ollama, llama.cpp, vLLM) odrzucają json_schema; Gemini ma natywny tryb JSON.
    kwargs = {"method": "function_calling"} if target.provider == "openai" else {}
    return model.with_structured_output(schema, include_raw=True, **kwargs)


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
    models = _loop_models.setdefault(asyncio.get_running_loop(), {})
    key = (target.provider, target.role, target.model)
    if key not in models:
        models[key] = _build(target)
    return models[key]


def limiter(role: str) -> asyncio.Semaphore:
    """Semafor roli w bieżącej pętli (rozmiar: `concurrency`); `agenerate` sam go używa, więc `asyncio.gather` jest
    bezpieczny.
    """
    limiters = _loop_limiters.setdefault(asyncio.get_running_loop(), {})
    if role not in limiters:
        limiters[role] = asyncio.Semaphore(config.load_models().role(role).concurrency)
    return limiters[role]
