"""Embeddingi per rola: Gemini, serwer zgodny z OpenAI albo wordllama offline."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from langchain_core.embeddings import Embeddings

import config


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
