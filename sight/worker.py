"""Worker RQ Sight: przed rozwidleniem wczytuje klientów dostawców LLM, bo każde zadanie to nowy proces potomny."""

from __future__ import annotations

from typing import Any

import rq


class Worker(rq.Worker):
    """`rq.Worker`, którego proces macierzysty importuje klientów dostawców raz (import langchain-openai albo
    langchain-google-genai to sekundy CPU; proces zadania dziedziczy je po rozwidleniu zamiast płacić za nie w każdym
    zadaniu).
    """

    def work(self, *args: Any, **kwargs: Any) -> bool:
        """Pętla workera po wczytaniu dostawców."""
        from sight import llm

        llm.preload_providers()
        return super().work(*args, **kwargs)
