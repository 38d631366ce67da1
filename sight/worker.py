"""Worker RQ Sight: przed rozwidleniem wczytuje klientów dostawców LLM, bo każde zadanie to nowy proces potomny."""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import Callable
from typing import Any

import rq

log = logging.getLogger(__name__)
# Rozgrzewki serwera ASGI (np. słowniki lematyzatora): aplikacje dopisują je w `AppConfig.ready`, serwer wykonuje je
# w wątku w tle zaraz po starcie. (Worker ich nie robi: wstrzymałyby jego start o sekundy; zadanie wczyta słownik samo.)
WARM_UPS: list[Callable[[], None]] = []


WARMED_UP = threading.Event()


def warm_up() -> None:
    """Wykonuje rozgrzewki po kolei; błąd jednej nie zatrzymuje procesu (pierwsze użycie zapłaci za nią samo)."""
    for step in WARM_UPS:
        try:
            step()
        except Exception:  # noqa: BLE001 - rozgrzewka jest tylko optymalizacją
            log.warning("warm-up %s failed", getattr(step, "__qualname__", step), exc_info=True)
    WARMED_UP.set()


def warm_up_in_background() -> None:
    """Rozgrzewki w wątku w tle (serwer przyjmuje żądania od razu)."""
    threading.Thread(target=warm_up, name="sight-warm-up", daemon=True).start()


class Worker(rq.Worker):
    """`rq.Worker`, którego proces macierzysty importuje klientów dostawców raz (import langchain-openai albo
    langchain-google-genai to sekundy CPU; proces zadania dziedziczy je po rozwidleniu zamiast płacić za nie w każdym
    zadaniu).
    """

    def work(self, *args: Any, **kwargs: Any) -> bool:
        """Pętla workera po wczytaniu dostawców."""
        prepare_parent()
        return super().work(*args, **kwargs)


def prepare_parent() -> None:
    """Co proces macierzysty workera wczytuje przed rozwidleniem: klientów dostawców LLM (`preload_providers`) i
    warstwę kanałów (publikacja na żywo), by każde zadanie ich nie importowało od nowa.
    """
    from channels.layers import get_channel_layer

    from sight import llm

    llm.preload_providers()
    get_channel_layer()
    # Wczytane moduły (Django, LangChain, klienci, słowniki) do stałej generacji odśmiecacza: pełne odśmiecanie w
    # zadaniu nie przegląda setek tysięcy obiektów rodzica (setki ms w losowej chwili zadania), a strony pamięci
    # dzielone po rozwidleniu nie są kopiowane przez zapis liczników GC.
    gc.collect()
    gc.freeze()
