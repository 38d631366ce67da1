"""Warstwa LLM: modele czatu i embeddingów per rola, jedno API wywołań z ponowieniami, cache, budżetem i zapisem użycia.

Kod domenowy woła `agenerate`/`generate` z nazwą roli (`config/models.yaml`), wiadomościami albo nazwą promptu i
opcjonalnym schematem pydantic. Dostawcy: `google` (Gemini), `openai` (serwer zgodny z OpenAI), `offline`
(deterministyczny, bez sieci) i `fake` (skryptowany w testach przez `script`).

Moduły według pojęć: `base` (błędy, wiadomości), `providers` (role, modele per pętla zdarzeń), `retry` (ponowienia),
`usage` (cache, koszt, LLMCall, budżet), `calls` (wywołanie), `embeddings`, `offline` (z `offline_roles`: odpowiedzi
w roli promptu) i `fake`; tu tylko nazwy publiczne.
"""

from sight.llm.base import (
    BudgetExceeded,
    LLMCallError,
    LLMError,
    LLMOutputError,
    MessagesLike,
    ScriptExhausted,
    estimate_tokens,
    prompt_messages,
    to_messages,
)
from sight.llm.calls import agenerate, describe_problem, generate
from sight.llm.embeddings import WordLlamaEmbeddings, build_embeddings, embedding_dimension
from sight.llm.fake import ScriptedChatModel, reset_scripts, script, scripted_calls
from sight.llm.offline import OfflineChatModel, OfflineWriter
from sight.llm.providers import (
    Target,
    aclose_loop_clients,
    build_chat_model,
    limiter,
    preload_providers,
    resolve,
    run_in_loop,
)
from sight.llm.retry import MAX_RETRY_HINT_SECONDS, is_transient, retry_hint
from sight.llm.usage import cost_usd, job_usage

__all__ = [
    "MAX_RETRY_HINT_SECONDS",
    "BudgetExceeded",
    "LLMCallError",
    "LLMError",
    "LLMOutputError",
    "MessagesLike",
    "OfflineChatModel",
    "OfflineWriter",
    "ScriptExhausted",
    "ScriptedChatModel",
    "Target",
    "WordLlamaEmbeddings",
    "aclose_loop_clients",
    "agenerate",
    "build_chat_model",
    "build_embeddings",
    "cost_usd",
    "job_usage",
    "describe_problem",
    "embedding_dimension",
    "estimate_tokens",
    "generate",
    "is_transient",
    "limiter",
    "preload_providers",
    "prompt_messages",
    "reset_scripts",
    "resolve",
    "retry_hint",
    "run_in_loop",
    "script",
    "scripted_calls",
    "to_messages",
]
