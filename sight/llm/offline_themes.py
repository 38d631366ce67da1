"""Dostawca `offline` w roli kodera tematów (`survey_themes`): grupuje odpowiedzi po wspólnych słowach treściowych.

Bez modelu nie ma rozumienia, więc kodowanie jest jawnie leksykalne: lematy (simplemma) słów treściowych, które
powtarzają się w co najmniej dwóch odpowiedziach, stają się tematami (od najczęstszych; temat, którego odpowiedzi
pokrywają już inne, jest pomijany), reszta trafia do „Inne”. Cytaty to prawdziwe zdania odpowiedzi zawierające słowo
tematu, więc przechodzą sprawdzenie cytatów jak odpowiedź prawdziwego modelu. Deterministycznie: to samo wejście —
te same tematy.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import cache
from typing import Any

_LINE = re.compile(r"^\[A(\d+)\] (.+)$")
_WORD = re.compile(r"[^\W\d_]{4,}")
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")
_EXTRA_STOPWORDS = frozenset(
    "this that with have from they them than then what when were been will just also more most very much "
    "some such only into over like make makes made because mnie jest jestem było była może mogę jako tego "
    "tym tej tak nie się jak dla ale już czy też jego jej ich nam nas bardziej więc żeby gdy są być sobie "
    "mój moja moje mojego mojej wszystko coś ktoś zawsze nigdy często czasem".split()
)


@cache
def _stopwords(language: str) -> frozenset[str]:
    """Słowa pomijane: ogólne, z promptów i wypełniacze zdań pisarza offline (nie są treścią odpowiedzi)."""
    from sight.llm.offline import _SENTENCES, _STOPWORDS

    filler = {w.casefold() for s in _SENTENCES.get(language, []) for w in _WORD.findall(re.sub(r"\{\w+\}", "", s))}
    return frozenset(_STOPWORDS | _EXTRA_STOPWORDS | filler)


def _lemma(word: str, language: str) -> str:
    import simplemma

    return simplemma.lemmatize(word, lang=language).casefold()


def _parse(block: str) -> list[tuple[int, str]]:
    return [(int(m.group(1)), m.group(2)) for m in map(_LINE.match, block.splitlines()) if m]


def _words(text: str, language: str) -> dict[str, str]:
    """Lemat → pierwsza forma w tekście, dla słów treściowych."""
    stop, out = _stopwords(language), {}
    for word in _WORD.findall(text):
        if word.casefold() in stop:
            continue
        out.setdefault(_lemma(word, language), word.casefold())
    return out


def _quote(text: str, form: str | None) -> str:
    """Zdanie odpowiedzi ze słowem tematu (albo pierwsze), dosłownie, najwyżej 300 znaków."""
    sentences = [s for s in _SENTENCE_END.split(text) if s.strip()] or [text]
    chosen = next((s for s in sentences if form and form in s.casefold()), sentences[0])
    return chosen.strip()[:300].rsplit(" ", 1)[0] if len(chosen.strip()) > 300 else chosen.strip()


def _theme(label: str, description: str, members: list[tuple[int, str]], forms: dict[int, str]) -> dict[str, Any]:
    return {
        "label": label,
        "description": description,
        "answer_ids": [i for i, _t in members],
        "quotes": [{"answer_id": i, "text": _quote(t, forms.get(i))} for i, t in members[:2]],
    }


def code_themes(language: str, block: str, max_themes: int) -> dict[str, Any]:
    """Tematy partii odpowiedzi z bloku danych `[A<id>] tekst` (pola schematu `ThemesOut`)."""
    pl = language == "pl"
    answers = _parse(block)
    words = {i: _words(t, language) for i, t in answers}
    frequency = Counter(lemma for w in words.values() for lemma in w)
    themes, covered = [], set()
    for lemma, count in sorted(frequency.items(), key=lambda kv: (-kv[1], kv[0])):
        if count < 2 or len(themes) >= max_themes - 1:
            break
        members = [(i, t) for i, t in answers if lemma in words[i]]
        ids = {i for i, _t in members}
        if len(ids & covered) >= 0.8 * len(ids):
            continue
        covered |= ids
        description = f"Odpowiedzi, w których pojawia się „{lemma}”." if pl else f"Answers that mention “{lemma}”."
        themes.append(_theme(lemma.capitalize(), description, members, {i: words[i][lemma] for i in ids}))
    rest = [(i, t) for i, t in answers if i not in covered]
    if rest:
        label = "Inne" if pl else "Other"
        description = "Odpowiedzi bez wątku wspólnego z innymi." if pl else "Answers sharing no thread with the others."
        themes.append(_theme(label, description, rest, {}))
    return {"themes": themes}
