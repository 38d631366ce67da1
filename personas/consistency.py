"""Spójność person: czy historia, tytuł, zawód i wypowiedzi z dyskusji zgadzają się z faktami persony.

Reguły są deterministyczne (słowniki i wzorce z `config/consistency.yaml`, pl i en), bez modelu językowego. Łapią
tylko sprzeczności wyrażone w opisanej tam formie — inny wiek podany liczbą („mam 35 lat”), zawód przypisany wprost
(„jest weterynarką”, „pracuje jako kierowca”), formy gramatyczne innej płci, miejsce i zarobki podane wprost.
Sprzeczność opisana innymi słowami przejdzie niezauważona: brak flag to brak wykrytych sprzeczności, nie dowód
spójności.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from functools import cache as cache_in_process
from functools import lru_cache
from typing import Any

from django.core.cache import cache

import config
from config import ConsistencyLexicon, DemographicPreset

# Skąd pochodzi sprzeczny fragment.
STORY, TITLE, OCCUPATION, STATEMENT = "story", "title", "occupation", "statement"
# Rodzaje sprzeczności.
OCCUPATION_CLAIM, OCCUPATION_AGE, AGE_STATED, GENDER_FORM, LOCATION_CLAIM, INCOME_CLAIM = (
    "occupation_claim",
    "occupation_age",
    "age_stated",
    "gender_form",
    "location_claim",
    "income_claim",
)
AGE_TOLERANCE = 1  # urodziny w trakcie roku: różnica o rok to nie sprzeczność
WINDOW_WORDS = 4  # ile słów po zwrocie „jest / pracuje jako” może zajmować nazwa zawodu
QUOTE_CHARS = 160
CACHE_SECONDS = 7 * 24 * 3600
LOOKBACK = 200  # dalej wstecz niż tyle znaków początek zdania nie ma znaczenia dla reguł

_SENTENCE_END = re.compile(r"[.!?;\n…]")
_CLAUSE_START = re.compile(r"[.!?;:,\n…]")
_WORDS = re.compile(r"[^\W\d_][\w-]*")
_BRACKET = re.compile(r"^\s*(\d[\d\s]*)\s*(?:[-–]\s*(\d[\d\s]*)|\+)\s*$")


@dataclass(frozen=True)
class PersonaFacts:
    """Fakty persony i jej teksty do sprawdzenia."""

    id: str
    full_name: str
    age: int | None
    gender: str
    occupation: str
    title: str
    location: str
    income: str
    story: str
    statements: Sequence[str] = ()


@dataclass
class _Rules:
    """Skompilowane wzorce jednego języka (raz na proces)."""

    lexicon: ConsistencyLexicon
    concepts: dict[str, re.Pattern[str]] = field(default_factory=dict)
    generic: re.Pattern[str] | None = None
    past: re.Pattern[str] | None = None
    others: re.Pattern[str] | None = None
    claims: list[tuple[re.Pattern[str], tuple[str, ...]]] = field(default_factory=list)
    # Wzorce form płci z miejscem na imię: {płeć, której formy szukamy: [wzorce]}; końcówki 1. osoby osobno.
    gender_forms: dict[str, list[str]] = field(default_factory=dict)
    first_person: dict[str, tuple[str, ...]] = field(default_factory=dict)
    places: re.Pattern[str] | None = None
    place_buckets: dict[str, str] = field(default_factory=dict)
    income: re.Pattern[str] | None = None
    # Formy zawodów z par presetów („rolnik / rolniczka”): {płeć formy: wzorzec}.
    occupation_forms: dict[str, re.Pattern[str]] = field(default_factory=dict)


@lru_cache(maxsize=4096)
def _compile(pattern: str, first: str = "") -> re.Pattern[str]:
    """Wzorzec z imieniem persony w miejscu {first} (skompilowany raz na imię: literał na początku szuka się szybko)."""
    return re.compile(pattern.replace("{first}", re.escape(first) if first else r"\b\B"), re.IGNORECASE)


def _alternation(words: Iterable[str], *, escape: bool = True) -> str:
    return "|".join(re.escape(w) if escape else w for w in sorted(words, key=len, reverse=True))


@cache_in_process
def _rules(language: str) -> _Rules:
    lexicon: ConsistencyLexicon = getattr(config.load_consistency(), language)
    rules = _Rules(lexicon)
    rules.concepts = {
        name: re.compile(rf"\b(?:{_alternation(term.stems, escape=False)})", re.IGNORECASE)
        for name, term in lexicon.occupations.items()
    }
    if lexicon.generic:
        rules.generic = re.compile(rf"\b(?:{_alternation(lexicon.generic)})", re.IGNORECASE)
    if lexicon.past_markers:
        rules.past = re.compile(rf"\b(?:{_alternation(lexicon.past_markers)})", re.IGNORECASE)
    if lexicon.other_people:
        rules.others = re.compile(rf"\b(?:{_alternation(lexicon.other_people)})\b", re.IGNORECASE)
    rules.claims = [(re.compile(c.pattern, re.IGNORECASE), tuple(c.endings)) for c in lexicon.claims]
    for gender in ("female", "male"):
        forms = [getattr(lexicon.third_person, gender)] if lexicon.third_person else []
        nouns = getattr(lexicon.gendered_nouns, gender)
        if nouns and lexicon.gendered_claim:
            forms.append(rf"{lexicon.gendered_claim}(?:{_alternation(nouns)})\b")
        rules.gender_forms[gender] = forms
        rules.first_person[gender] = tuple(getattr(lexicon.first_person, gender)) if lexicon.first_person else ()
    if lexicon.places:
        rules.place_buckets = {p.casefold(): b for b, phrases in lexicon.places.by_bucket.items() for p in phrases}
        rules.places = re.compile(
            rf"{lexicon.places.claim}(?P<place>{_alternation(rules.place_buckets)})(?!\w)", re.IGNORECASE
        )
    rules.income = re.compile(lexicon.income.pattern, re.IGNORECASE) if lexicon.income else None
    by_gender: dict[str, list[str]] = defaultdict(list)
    for form, gender in gendered_pairs(config.load_demographics().values(), language).items():
        by_gender[gender].append(form)
    rules.occupation_forms = {
        gender: re.compile(rf"(?<!\w)(?:{_alternation(forms)})(?!\w)", re.IGNORECASE)
        for gender, forms in by_gender.items()
    }
    return rules


def _quote(text: str, start: int, end: int) -> str:
    """Fragment tekstu wokół dopasowania (do pokazania na karcie)."""
    left = max(_last_boundary(text, start, _SENTENCE_END), start - QUOTE_CHARS // 2)
    match = _SENTENCE_END.search(text, end)
    right = min(match.start() if match else len(text), end + QUOTE_CHARS // 2)
    return " ".join(text[left:right].split())


def _last_boundary(text: str, position: int, boundary: re.Pattern[str]) -> int:
    """Początek zdania albo członu przed `position` (szukany najwyżej LOOKBACK znaków wstecz: koszt liniowy)."""
    start = max(0, position - LOOKBACK)
    found = start
    for match in boundary.finditer(text, start, position):
        found = match.end()
    return found


def _problem(code: str, source: str, quote: str, expected: Mapping[str, str]) -> dict[str, Any]:
    return {"code": code, "source": source, "quote": quote, "expected": dict(expected)}


def _same(value: str) -> dict[str, str]:
    return {"pl": value, "en": value}


# --- zawód ---------------------------------------------------------------------------------------------------------


def own_concepts(rules: _Rules, text: str) -> set[str]:
    """Zawody ze słownika, które nazywa tekst (zawód i tytuł persony)."""
    return {name for name, pattern in rules.concepts.items() if pattern.search(text)}


def _claimed(rules: _Rules, text: str) -> Iterable[tuple[str, int, int]]:
    """Zawody przypisane w tekście wprost („jest weterynarką”, „pracuje jako kierowca”): (zawód, początek, koniec)."""
    for pattern, endings in rules.claims:
        for match in pattern.finditer(text):
            clause = text[_last_boundary(text, match.start(), _CLAUSE_START) : match.start()]
            if rules.others and rules.others.search(clause):
                continue  # podmiotem jest ktoś inny („jej mąż jest rolnikiem”)
            stop = _SENTENCE_END.search(text, match.end())
            window = text[match.end() : stop.start() if stop else len(text)]
            words = list(_WORDS.finditer(window))[:WINDOW_WORDS]
            found = _first_concept(rules, window, words, endings, clause)
            if found:
                yield found[0], match.start(), match.end() + found[1]


def _first_concept(
    rules: _Rules, window: str, words: list[re.Match[str]], endings: tuple[str, ...], clause: str
) -> tuple[str, int] | None:
    """Pierwszy zawód ze słownika w oknie po zwrocie (nazwa, koniec słowa); None dla dawnego zawodu."""
    if rules.past and rules.past.search(clause[-40:]):
        return None
    for word in words:
        if rules.past and rules.past.match(word.group()):
            return None  # „jest emerytowaną nauczycielką”: dawny zawód
        for name, pattern in rules.concepts.items():
            if pattern.match(window, word.start()):
                fits = not endings or word.group().casefold().endswith(endings)
                return (name, word.end()) if fits else None
    return None


def _age_fits(rules: _Rules, concept: str, age: int | None) -> bool:
    term = rules.lexicon.occupations[concept]
    return age is None or (
        (term.min_age is None or age >= term.min_age) and (term.max_age is None or age <= term.max_age)
    )


def occupation_problems(rules: _Rules, facts: PersonaFacts, texts: Sequence[tuple[str, str]]) -> list[dict[str, Any]]:
    """Zawód przypisany w tekstach inny niż zawód persony albo niemożliwy w jej wieku."""
    problems = []
    own = own_concepts(rules, f"{facts.occupation} {facts.title}")
    generic = bool(rules.generic and rules.generic.search(facts.occupation)) or not own
    occupation_fact = _same(facts.occupation or facts.title)
    for concept in sorted(own_concepts(rules, facts.occupation)):
        if not _age_fits(rules, concept, facts.age):
            problems.append(_problem(OCCUPATION_AGE, OCCUPATION, facts.occupation, _same(str(facts.age))))
    for source, text in texts:
        for concept, start, end in _claimed(rules, text):
            status = rules.lexicon.occupations[concept].status
            if not _age_fits(rules, concept, facts.age):
                problems.append(_problem(OCCUPATION_AGE, source, _quote(text, start, end), _same(str(facts.age))))
            elif not status and not generic and concept not in own:
                problems.append(_problem(OCCUPATION_CLAIM, source, _quote(text, start, end), occupation_fact))
    return problems


# --- wiek ----------------------------------------------------------------------------------------------------------


def age_problems(rules: _Rules, facts: PersonaFacts, texts: Sequence[tuple[str, str]]) -> list[dict[str, Any]]:
    """Wiek podany w tekście liczbą, inny niż wiek persony (o więcej niż rok)."""
    if facts.age is None:
        return []
    patterns, problems = [_compile(p, _first_name(facts)) for p in rules.lexicon.age_patterns], []
    for source, text in texts:
        for pattern in patterns:
            for match in pattern.finditer(text):
                if abs(int(match.group("age")) - facts.age) > AGE_TOLERANCE:
                    problems.append(
                        _problem(AGE_STATED, source, _quote(text, match.start(), match.end()), _same(str(facts.age)))
                    )
    return problems


def _first_name(facts: PersonaFacts) -> str:
    return facts.full_name.split()[0] if facts.full_name.split() else ""


# --- płeć ----------------------------------------------------------------------------------------------------------


def gendered_pairs(presets: Iterable[DemographicPreset], language: str) -> dict[str, str]:
    """Formy zawodów z presetów („rolnik / rolniczka”): forma → płeć, tylko gdy obie formy się różnią."""
    pairs: dict[str, str] = {}
    for preset in presets:
        if preset.language != language:
            continue
        for occupation in preset.vocabularies.occupations:
            forms = [f.strip() for f in occupation.name.split(" / ")]
            if len(forms) == 2 and forms[0].casefold() != forms[1].casefold():
                pairs[forms[0].casefold()], pairs[forms[1].casefold()] = "male", "female"
    return pairs


def gender_problems(rules: _Rules, facts: PersonaFacts, texts: Sequence[tuple[str, str]], gender_label: dict) -> list:
    """Formy gramatyczne albo określenia płci przeciwnej niż płeć persony."""
    other = {"female": "male", "male": "female"}.get(facts.gender)
    if other is None:
        return []
    problems = []
    occupation_forms = rules.occupation_forms.get(other)
    for source, text in ((OCCUPATION, facts.occupation), (TITLE, facts.title)):
        if occupation_forms and occupation_forms.search(text):
            problems.append(_problem(GENDER_FORM, source, text, gender_label))
    exceptions = {w.casefold() for w in rules.lexicon.gender_exceptions}
    patterns = [_compile(p, _first_name(facts)) for p in rules.gender_forms.get(other, [])]
    endings = rules.first_person.get(other, ())
    for source, text in texts:
        matches = [m for m in (next(p.finditer(text), None) for p in patterns) if m]
        if endings:
            # Końcówki 1. osoby: słowa tekstu sprawdzane w Pythonie (szybciej niż wzorzec próbowany od każdego słowa).
            matches += [m for m in _WORDS.finditer(text) if m.group().casefold().endswith(endings)][:1]
        for match in matches:
            last = match.group().split()[-1].casefold() if match.group().split() else ""
            if last not in exceptions:
                problems.append(_problem(GENDER_FORM, source, _quote(text, match.start(), match.end()), gender_label))
    return problems


# --- miejsce i dochód ----------------------------------------------------------------------------------------------


def location_problems(
    rules: _Rules, facts: PersonaFacts, texts: Sequence[tuple[str, str]], location_label: dict
) -> list[dict[str, Any]]:
    """Miejsce zamieszkania opisane wprost, niezgodne z koszykiem persony."""
    places = rules.lexicon.places
    known = set(places.by_bucket) | {b for group in places.compatible for b in group} if places else set()
    if not places or facts.location not in known:
        return []
    problems = []
    for source, text in texts:
        for match in rules.places.finditer(text) if rules.places else ():
            bucket = rules.place_buckets[match.group("place").casefold()]
            if bucket == facts.location or any(bucket in g and facts.location in g for g in places.compatible):
                continue
            clause = text[_last_boundary(text, match.start(), _CLAUSE_START) : match.start()]
            if not (rules.others and rules.others.search(clause)):
                problems.append(
                    _problem(LOCATION_CLAIM, source, _quote(text, match.start(), match.end()), location_label)
                )
    return problems


def income_bounds(bucket: str) -> tuple[float, float | None] | None:
    """Granice koszyka dochodu („3000-4999” → (3000, 4999), „15000+” → (15000, None)); None dla innych etykiet."""
    match = _BRACKET.match(bucket or "")
    if not match:
        return None
    low = float(match.group(1).replace(" ", ""))
    return low, float(match.group(2).replace(" ", "")) if match.group(2) else None


def income_problems(
    rules: _Rules, facts: PersonaFacts, texts: Sequence[tuple[str, str]], income_label: dict
) -> list[dict[str, Any]]:
    """Zarobki podane kwotą poza koszykiem dochodu persony (z tolerancją)."""
    rule, bounds, pattern = rules.lexicon.income, income_bounds(facts.income), rules.income
    if rule is None or bounds is None or pattern is None:
        return []
    low, high = bounds
    problems = []
    for source, text in texts:
        for match in pattern.finditer(text):
            clause = text[_last_boundary(text, match.start(), _CLAUSE_START) : match.start()]
            if rules.others and rules.others.search(clause):
                continue
            amount = float(re.sub(r"\s", "", match.group("amount")).replace(",", "."))
            amount *= 1000 if match.groupdict().get("thousands") else 1
            if amount < low * (1 - rule.tolerance) or (high is not None and amount > high * (1 + rule.tolerance)):
                problems.append(_problem(INCOME_CLAIM, source, _quote(text, match.start(), match.end()), income_label))
    return problems


# --- cały panel ----------------------------------------------------------------------------------------------------


def check_persona(facts: PersonaFacts, language: str, *, labels: Mapping[str, Mapping[str, dict]]) -> list[dict]:
    """Sprzeczności jednej persony; `labels` to etykiety jej koszyków płci, miejsca i dochodu ({kolumna: {pl, en}})."""
    rules = _rules(language)
    texts = [(STORY, facts.story), (TITLE, facts.title)] + [(STATEMENT, s) for s in facts.statements]
    problems = occupation_problems(rules, facts, texts)
    problems += age_problems(rules, facts, texts)
    problems += gender_problems(rules, facts, texts, labels.get("gender", {}).get(facts.gender) or {})
    problems += location_problems(rules, facts, texts, labels.get("location", {}).get(facts.location) or {})
    problems += income_problems(rules, facts, texts, labels.get("income", {}).get(facts.income) or {})
    unique: dict[tuple[str, str, str], dict[str, Any]] = {}
    for problem in problems:
        unique.setdefault((problem["code"], problem["source"], problem["quote"]), problem)
    return list(unique.values())


def check_panel(
    personas: Sequence[PersonaFacts], language: str, *, labels: Mapping[str, Mapping[str, dict]]
) -> list[dict[str, Any]]:
    """Persony ze sprzecznościami: [{id, name, problems}] w kolejności panelu.

    Wynik każdej persony trafia do cache pod skrótem jej faktów, tekstów, etykiet i słowników: karta trafności liczona
    przy każdym wyświetleniu projektu sprawdza od nowa tylko persony, które się zmieniły (pierwsze liczenie robi
    walidacja na końcu przebiegu generowania).
    """
    language = language if language in config.LANGUAGES else "en"
    keys = {facts.id: _cache_key(facts, language, labels) for facts in personas}
    cached = cache.get_many(list(keys.values()))
    fresh: dict[str, list[dict[str, Any]]] = {}
    flagged = []
    for facts in personas:
        key = keys[facts.id]
        problems = (
            cached[key] if key in cached else fresh.setdefault(key, check_persona(facts, language, labels=labels))
        )
        if problems:
            flagged.append({"id": facts.id, "name": facts.full_name, "problems": problems})
    if fresh:
        cache.set_many(fresh, timeout=CACHE_SECONDS)
    return flagged


def _cache_key(facts: PersonaFacts, language: str, labels: Mapping[str, Mapping[str, dict]]) -> str:
    own_labels = {
        column: labels.get(column, {}).get(getattr(facts, column)) for column in ("gender", "location", "income")
    }
    source = json.dumps([asdict(facts), language, own_labels, _lexicon_digest(language)], sort_keys=True, default=str)
    return "persona-consistency:" + hashlib.sha256(source.encode()).hexdigest()


@cache_in_process
def _lexicon_digest(language: str) -> str:
    """Skrót słowników języka (zmiana config/consistency.yaml unieważnia zapamiętane wyniki)."""
    lexicon: ConsistencyLexicon = getattr(config.load_consistency(), language)
    return hashlib.sha256(lexicon.model_dump_json().encode()).hexdigest()[:16]
