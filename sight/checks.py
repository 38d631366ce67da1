"""Kontrole systemowe konfiguracji (`manage.py check`): błąd wskazuje plik i pole."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, register

import config


@register("sight")
def check_config(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """sight.E001–E004, E009–E010: pliki models, features, prompts, demographics, surveys, consistency są spójne."""
    errors: list[CheckMessage] = []
    for code, loader in (
        ("sight.E001", config.load_models),
        ("sight.E002", config.load_features),
        ("sight.E003", config.load_prompts),
        ("sight.E004", config.load_demographics),
        ("sight.E009", config.load_surveys),
        ("sight.E010", config.load_consistency),
    ):
        try:
            loader()
        except config.ConfigError as exc:
            errors.append(
                Error(str(exc), hint=f"Fix {exc.path}" + (f", field {exc.field}" if exc.field else ""), id=code)
            )
    return errors


@register("sight")
def check_llm_provider(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """sight.E005–E006: dostawca LLM jest znany i ma to, czego potrzebuje."""
    provider = settings.SIGHT_LLM_PROVIDER
    if provider not in {"google", "openai", "offline", "fake"}:
        return [Error(f"SIGHT_LLM_PROVIDER={provider!r} is not one of google, openai, offline, fake", id="sight.E005")]
    if provider == "google" and not settings.GOOGLE_API_KEY:
        return [Error("SIGHT_LLM_PROVIDER=google needs GOOGLE_API_KEY", id="sight.E006")]
    if provider == "openai" and not settings.SIGHT_LLM_BASE_URL:
        return [
            Error(
                "SIGHT_LLM_PROVIDER=openai needs SIGHT_LLM_BASE_URL (e.g. http://localhost:11434/v1 for Ollama)",
                id="sight.E006",
            )
        ]
    return []


@register("sight")
def check_graph_backend(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """sight.E007: backend grafu jest znany i ma adres."""
    if settings.GRAPH_BACKEND not in {"neo4j", "falkordb"}:
        return [Error(f"GRAPH_BACKEND={settings.GRAPH_BACKEND!r} is not neo4j or falkordb", id="sight.E007")]
    if settings.GRAPH_BACKEND == "neo4j" and not settings.NEO4J_URI:
        return [Error("GRAPH_BACKEND=neo4j needs NEO4J_URI (bolt://host:7687)", id="sight.E007")]
    return []


@register("sight", deploy=True)
def check_production_secrets(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """sight.E008: w produkcji klucz SECRET_KEY musi pochodzić ze środowiska, nie z wartości deweloperskiej."""
    if settings.SECRET_KEY.startswith("dev-only-insecure"):
        return [
            Error(
                "SECRET_KEY is the development default",
                hint="Set DJANGO_SECRET_KEY to a long random value.",
                id="sight.E008",
            )
        ]
    return []
