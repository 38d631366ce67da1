"""Wspólne elementy warstwy LLM: błędy, wiadomości i pomocniki dostawców offline i fake (bez zależności od reszty
pakietu).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.runnables import Runnable
from langchain_core.utils.function_calling import convert_to_openai_tool

import config

MessagesLike = str | tuple[str, str] | Sequence[BaseMessage]
# str | dict | BaseModel | AIMessage | BaseException | Callable[[list[BaseMessage]], Scripted | Awaitable[Scripted]]
Scripted = Any


# --- błędy ------------------------------------------------------------------------------------------------------------


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


# --- wiadomości -------------------------------------------------------------------------------------------------------


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


def _answer_text(raw: Any) -> str:
    if not isinstance(raw, AIMessage):
        return str(raw or "")
    if raw.tool_calls:
        return json.dumps(raw.tool_calls[0]["args"], ensure_ascii=False)
    if raw.invalid_tool_calls:
        return str(raw.invalid_tool_calls[0].get("args") or "")
    return raw.text


# --- wspólne dla dostawców offline i fake -----------------------------------------------------------------------------


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
