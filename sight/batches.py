"""Zapis partiami z pętli zdarzeń: co przyjdzie, gdy poprzednia partia się zapisuje, idzie następną.

Równoległe kroki zadania (fala odpowiedzi, fala person) kończą się niemal naraz; zamiast przejścia do wątku ORM na każdy
wynik jest jedno na partię (jedno INSERT, jeden raport postępu). Pojedynczy krok nie czeka na nic: idzie od razu.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from asgiref.sync import sync_to_async


class GroupWriter[T, R]:
    """Zbiera elementy z pętli zdarzeń i zapisuje je partiami funkcją synchroniczną `store` (w wątku ORM)."""

    def __init__(self, store: Callable[[list[T]], list[R]]) -> None:
        self.store = store
        self.queue: list[tuple[T, asyncio.Future[R]]] = []
        self.flushing: asyncio.Task[None] | None = None

    async def write(self, item: T) -> R:
        """Wynik `store` dla elementu (po zapisie jego partii); błąd partii trafia do każdego jej elementu."""
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self.queue.append((item, future))
        if self.flushing is None:
            self.flushing = asyncio.create_task(self._flush())
        return await future

    async def _flush(self) -> None:
        try:
            while self.queue:
                batch, self.queue = self.queue, []
                try:
                    results = await sync_to_async(self.store)([item for item, _ in batch])
                except Exception as exc:  # noqa: BLE001 - także JobCancelled: dostaje go każdy czekający
                    for _, future in batch:
                        future.set_exception(exc)
                    continue
                for (_, future), result in zip(batch, results, strict=True):
                    future.set_result(result)
        finally:
            self.flushing = None
