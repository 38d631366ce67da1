"""Dostawca `fake` (testy): odpowiedzi z kolejki ustawionej przez `script()`; odpowiedzi strukturalne to wywołania
narzędzia.
"""

from __future__ import annotations

import asyncio
import collections
import inspect
import json
import threading
from collections.abc import Awaitable, Sequence
from typing import Any

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import BaseModel

from sight.llm.base import Scripted, ScriptExhausted, _ToolBindingMixin, _with_usage

_scripts: dict[str, collections.deque[Scripted]] = {}
_scripted_calls: list[tuple[str, list[BaseMessage]]] = []
_script_lock = threading.Lock()


def script(role: str, responses: Sequence[Scripted]) -> None:
    """Ustawia kolejkę odpowiedzi dostawcy `fake` dla roli (`"*"` — dowolna rola): tekst, dict/model (wywołanie
    narzędzia), AIMessage, wyjątek albo funkcja.
    """
    with _script_lock:
        _scripts[role] = collections.deque(responses)


def reset_scripts() -> None:
    """Czyści skrypty i zapis wywołań dostawcy `fake`."""
    with _script_lock:
        _scripts.clear()
        _scripted_calls.clear()


def scripted_calls(role: str | None = None) -> list[list[BaseMessage]]:
    """Wiadomości, które dostał dostawca `fake` (wszystkie albo dla roli), w kolejności wywołań."""
    return [msgs for r, msgs in _scripted_calls if role is None or r == role]


def _next_scripted(role: str, messages: list[BaseMessage]) -> Scripted:
    with _script_lock:
        _scripted_calls.append((role, list(messages)))
        queue = _scripts.get(role) if _scripts.get(role) else _scripts.get("*")
        if not queue:
            used = sum(1 for r, _ in _scripted_calls if r == role) - 1
            raise ScriptExhausted(
                f"fake LLM script for role {role!r} is exhausted after {used} response(s); add more with "
                f"llm.script({role!r}, [...])"
            )
        return queue.popleft()


def _tool_name(kwargs: dict[str, Any]) -> str | None:
    tools = kwargs.get("tools") or []
    return tools[0]["function"]["name"] if tools else None


def _as_message(item: Scripted, tool: str | None, messages: list[BaseMessage]) -> AIMessage:
    """Zamienia skryptowaną pozycję na AIMessage (z użyciem tokenów oszacowanym, gdy go brak)."""
    if isinstance(item, BaseException):
        raise item
    if isinstance(item, AIMessage):
        message = item
    elif isinstance(item, BaseModel):
        message = _as_message(item.model_dump(mode="json"), tool, messages)
    elif isinstance(item, dict):
        message = (
            AIMessage(
                "", tool_calls=[{"name": tool, "args": item, "id": f"call_{len(_scripted_calls)}", "type": "tool_call"}]
            )
            if tool
            else AIMessage(json.dumps(item))
        )
    else:
        message = AIMessage(str(item))
    if message.usage_metadata is None:
        message = _with_usage(message, messages)
    return message


class ScriptedChatModel(_ToolBindingMixin, BaseChatModel):
    """Model `fake`: odpowiada z kolejki ustawionej przez `script()`; odpowiedzi strukturalne to wywołania narzędzia."""

    role: str = "*"

    @property
    def _llm_type(self) -> str:
        return "sight-fake"

    def _generate(
        self, messages: list[BaseMessage], stop: list[str] | None = None, run_manager: Any = None, **kwargs: Any
    ) -> ChatResult:
        item = _next_scripted(self.role, messages)
        while callable(item) and not isinstance(item, BaseModel | type):
            item = item(messages)
            if inspect.isawaitable(item):
                item = asyncio.run(_await(item))
        return ChatResult(generations=[ChatGeneration(message=_as_message(item, _tool_name(kwargs), messages))])

    async def _agenerate(
        self, messages: list[BaseMessage], stop: list[str] | None = None, run_manager: Any = None, **kwargs: Any
    ) -> ChatResult:
        item = _next_scripted(self.role, messages)
        while callable(item) and not isinstance(item, BaseModel | type):
            item = item(messages)
            if inspect.isawaitable(item):
                item = await item
        return ChatResult(generations=[ChatGeneration(message=_as_message(item, _tool_name(kwargs), messages))])


async def _await(awaitable: Awaitable[Any]) -> Any:
    return await awaitable
