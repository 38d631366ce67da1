"""Zapis partiami z pętli zdarzeń: co przyjdzie, gdy poprzednia partia się zapisuje, idzie następną.

Równoległe kroki zadania (fala odpowiedzi, fala person) kończą się niemal naraz; zamiast przejścia do wątku ORM na każdy
wynik jest jedno na partię (jedno INSERT, jeden raport postępu). Pojedynczy krok nie czeka na nic: idzie od razu.

Krok, który nie potrzebuje wyniku zapisu (np. wypowiedź w dyskusji, wiersz LLMCall), oddaje element przez `submit`
i idzie dalej: zapis i to, co po nim (publikacja na żywo), dzieją się w tle, w kolejności zgłoszeń, a następne wywołanie
modelu już trwa. Błąd zapisu w tle nie ginie: podnosi go następne `submit`/`write` i `drain`, które zadanie
woła przed końcem.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from asgiref.sync import sync_to_async


class GroupWriter[T, R]:
    """Zbiera elementy z pętli zdarzeń i zapisuje je partiami funkcją synchroniczną `store` (w wątku ORM).

    `after` (opcjonalnie): korutyna wołana z wynikami każdej zapisanej partii, po kolei (np. publikacja zdarzeń w
    kolejności numerów).
    """

    def __init__(
        self, store: Callable[[list[T]], list[R]], *, after: Callable[[list[R]], Awaitable[None]] | None = None
    ) -> None:
        self.store, self.after = store, after
        self.queue: list[tuple[T, asyncio.Future[R] | None]] = []
        self.flushing: asyncio.Task[None] | None = None
        self.error: BaseException | None = None

    async def write(self, item: T) -> R:
        """Wynik `store` dla elementu (po zapisie jego partii); błąd partii trafia do każdego jej elementu."""
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._enqueue(item, future)
        return await future

    def submit(self, item: T) -> None:
        """Zgłasza element do zapisu w tle i wraca od razu; wcześniejszy błąd zapisu w tle podnosi tutaj."""
        self._enqueue(item, None)

    async def drain(self) -> None:
        """Czeka, aż wszystko zgłoszone zostanie zapisane; podnosi błąd zapisu w tle, jeśli był."""
        while self.flushing is not None:
            await asyncio.shield(self.flushing)
        self._raise_error()

    def _enqueue(self, item: T, future: asyncio.Future[R] | None) -> None:
        self._raise_error()
        self.queue.append((item, future))
        if self.flushing is None:
            self.flushing = asyncio.create_task(self._flush())

    def _raise_error(self) -> None:
        if self.error is not None:
            raise self.error

    async def _flush(self) -> None:
        try:
            while self.queue:
                batch, self.queue = self.queue, []
                try:
                    results = await sync_to_async(self.store)([item for item, _ in batch])
                    if self.after is not None:
                        await self.after(results)
                except Exception as exc:  # noqa: BLE001 - także JobCancelled: dostaje go każdy czekający
                    waiting = [future for _, future in batch if future is not None]
                    for future in waiting:
                        future.set_exception(exc)
                    if len(waiting) < len(batch):  # ktoś nie czeka na wynik: błąd czeka na submit/drain
                        self.error = self.error or exc
                    continue
                for (_, future), result in zip(batch, results, strict=True):
                    if future is not None:
                        future.set_result(result)
        finally:
            self.flushing = None
