"""Reguła zabierania głosu w dyskusji: licytacja pilności, gwarancja głosu dla cichych, premia dla zagadniętych.

Wybór jest deterministyczny (zależy tylko od historii pytania i ziarna), więc wznowiony przebieg wybiera tych samych
mówców.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Speaker:
    """Uczestnik z cechami, które wpływają na chęć zabrania głosu."""

    id: str
    name: str
    extraversion: float = 0.5


@dataclass(frozen=True)
class PastTurn:
    """Wcześniejsza wypowiedź w bieżącym pytaniu: kto mówił i do kogo się zwrócił."""

    speaker_id: str
    addressed_id: str | None = None


def _jitter(seed: str, speaker_id: str, turn_index: int) -> float:
    digest = hashlib.sha256(f"{seed}:{speaker_id}:{turn_index}".encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32


def bids(
    speakers: list[Speaker], history: list[PastTurn], *, turns_left: int, seed: str, guarantee: bool = True
) -> dict[str, float]:
    """Oferty wszystkich uczestników na następną turę (wyższa wygrywa; -inf = nie może mówić)."""
    spoken = {s.id: 0 for s in speakers}
    for turn in history:
        if turn.speaker_id in spoken:
            spoken[turn.speaker_id] += 1
    silent = [s.id for s in speakers if spoken[s.id] == 0]
    fair_share = math.ceil((len(history) + turns_left) / max(1, len(speakers)))
    last = history[-1] if history else None
    result: dict[str, float] = {}
    for s in speakers:
        bid = 0.3 + 0.7 * s.extraversion + 0.4 * _jitter(seed, s.id, len(history)) - 0.2 * spoken[s.id]
        if last is not None and last.addressed_id == s.id:
            bid += 1.0  # zagadnięty odpowiada
        if spoken[s.id] >= fair_share:
            bid -= 1.0  # nikt nie zagarnia dyskusji ponad uczciwy udział
        if guarantee and silent and len(silent) >= turns_left and s.id not in silent:
            bid = -math.inf  # gwarancja: każdy cichy uczestnik zabierze głos przed końcem pytania
        if last is not None and last.speaker_id == s.id and len(speakers) > 1:
            bid = -math.inf  # nikt nie mówi dwa razy z rzędu
        result[s.id] = bid
    return result


def next_speaker(speakers: list[Speaker], history: list[PastTurn], *, turns_left: int, seed: str) -> Speaker:
    """Zwraca uczestnika z najwyższą ofertą (remis rozstrzyga kolejność na liście)."""
    if not speakers:
        raise ValueError("a discussion needs at least one participant")
    offers = bids(speakers, history, turns_left=turns_left, seed=seed)
    return max(speakers, key=lambda s: offers[s.id])


def is_forced_floor(
    speaker: Speaker, speakers: list[Speaker], history: list[PastTurn], *, turns_left: int, seed: str
) -> bool:
    """Czy mówca dostaje głos tylko dzięki gwarancji dla cichych (sam by go nie wylicytował) — moderator go wtedy
    zaprasza.
    """
    if not history:
        return False
    offers = bids(speakers, history, turns_left=turns_left, seed=seed, guarantee=False)
    return max(speakers, key=lambda s: offers[s.id]).id != speaker.id
