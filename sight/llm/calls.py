"""Wywołanie roli: `agenerate`/`generate` z cache, budżetem, limitem współbieżności, ponowieniami i ponownymi
pytaniami.
"""

from __future__ import annotations

import asyncio
import re
import time
from typing import TYPE_CHECKING, Any, overload

from asgiref.sync import sync_to_async
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.runnables import Runnable
from pydantic import BaseModel, ValidationError

import config
from sight.llm.base import (
    LLMCallError,
    LLMError,
    LLMOutputError,
    MessagesLike,
    _answer_text,
    _messages_text,
    estimate_tokens,
    prompt_messages,
    to_messages,
)
from sight.llm.offline import answering_prompt
from sight.llm.providers import Target, _runnable_for_loop, limiter, resolve, run_in_loop
from sight.llm.retry import _chain, retrying
from sight.llm.usage import _Budget, _cache_get, _cache_key, _cache_set, _record, _Tally

if TYPE_CHECKING:
    from sight.models import Job, Project


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
    data: str = "",
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
    data: str = "",
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
    data: str = "",
) -> BaseModel | str:
    """Jedno wywołanie roli: cache, budżet, limit współbieżności, timeout, ponowienia, walidacja schematu, zapis
    LLMCall.

    `data`: niezaufany blok danych (fragmenty dokumentów) jako osobna wiadomość użytkownika przed poleceniem — nigdy w
    roli systemowej ani w szablonie promptu; odpowiedź, która przepisuje jego ogranicznik, jest odrzucana.
    """
    target = resolve(role)
    if (messages is None) == (prompt is None):
        raise TypeError("pass either messages or prompt=")
    msgs = (
        to_messages(messages) if messages is not None else prompt_messages(prompt or "", language, **(variables or {}))
    )
    if data:
        at = next((i for i, m in enumerate(msgs) if not isinstance(m, SystemMessage)), len(msgs))
        msgs = [*msgs[:at], HumanMessage(data), *msgs[at:]]
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
            # Dostawca offline odpowiada w roli promptu (nazwa i zmienne); prawdziwi dostawcy widzą tylko wiadomości.
            with answering_prompt(prompt, language, variables):
                value = await _converse(target, msgs, schema, tally, budget, forbidden=_fence(data))
    except Exception as exc:
        try:
            if tally.attempts:
                await _record(target, project, job, tally, started, error=f"{type(exc).__name__}: {exc}")
        finally:
            budget.release()
        raise
    # Rezerwację zwalnia zapis LLMCall (także w tle): dopiero wtedy zużycie widać w budget_left().
    await _record(target, project, job, tally, started, budget=budget)
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
    data: str = "",
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
    data: str = "",
) -> str: ...
def generate(role: str, messages: MessagesLike | None = None, **kwargs: Any) -> BaseModel | str:
    """Synchroniczna wersja `agenerate` (kod poza pętlą zdarzeń, np. zadanie z jednym wywołaniem)."""
    return run_in_loop(agenerate, role, messages, **kwargs)


def _fence(data: str) -> str:
    match = re.match(r"<<<(\S+)", data)
    return match.group(1) if match else ""


async def _converse(
    target: Target,
    msgs: list[BaseMessage],
    schema: type[BaseModel] | None,
    tally: _Tally,
    budget: _Budget,
    *,
    forbidden: str = "",
) -> BaseModel | str:
    """Pytanie i ograniczone ponowne pytania, gdy odpowiedź nie pasuje do schematu (albo zawiera `forbidden`)."""
    runnable = _runnable_for_loop(target, schema)
    conversation, problems, answer = list(msgs), [], ""
    for _ in range(target.cfg.reasks + 1):
        await budget.admit(estimate_tokens(_messages_text(conversation)) + target.cfg.max_tokens, spent=tally.tokens)
        output = await _ask(runnable, conversation, target, tally)
        value, answer, problem = _parse(output, schema)
        if problem is None and forbidden and forbidden in answer:
            problem = "the answer copied the delimiter of the data block; answer in your own words"
        if problem is None:
            return value
        problems.append(problem)
        conversation = [*msgs, AIMessage(answer or "(empty)"), HumanMessage(_reask_text(problem, schema))]
    raise LLMOutputError(target.role, problems, answer)


async def _ask(runnable: Runnable, conversation: list[BaseMessage], target: Target, tally: _Tally) -> Any:
    """Jedno żądanie z timeoutem i ponowieniami (`retry.retrying`); dolicza tokeny do licznika wywołania."""
    try:
        async for attempt in retrying(target.cfg.max_attempts):
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


# --- odpowiedź: walidacja i ponowne pytanie ---------------------------------------------------------------------------
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
