"""Losowanie profili person: przydział kwotowy z rozkładu projektu, wiek w koszyku, zawód i cechy osobowości."""

from __future__ import annotations

import math
import random
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from fractions import Fraction
from typing import TYPE_CHECKING, NotRequired, TypedDict

import config
from config import DemographicPreset, Occupation, Vocabularies

if TYPE_CHECKING:
    from sight.models import Project

BIG_FIVE = ("openness", "conscientiousness", "extraversion", "agreeableness", "neuroticism")
HOFSTEDE = (
    "power_distance",
    "individualism",
    "masculinity",
    "uncertainty_avoidance",
    "long_term_orientation",
    "indulgence",
)
TRAITS = BIG_FIVE + HOFSTEDE

# Beta(m·k, (1−m)·k) ma średnią m i odchylenie √(m(1−m)/(k+1)): przy m=0.5 to 0.15 (Big Five) i ~0.20 (Hofstede).
BIG_FIVE_CONCENTRATION = 10.0
HOFSTEDE_CONCENTRATION = 5.0
MEAN_LIMITS = (0.05, 0.95)

# Koszyk otwarty („65+”) obejmuje tyle lat powyżej dolnej granicy.
OPEN_AGE_SPAN = 15

# Kolumny persony i nazwy kategorii rozkładu, z których się biorą (pierwsza pasująca wygrywa).
COLUMN_CATEGORIES: dict[str, tuple[str, ...]] = {
    "age": ("age_group", "age"),
    "gender": ("gender", "sex"),
    "education": ("education_level", "education"),
    "income": ("income_bracket", "income"),
    "location": ("location", "region", "city"),
}

_AGE_RANGE = re.compile(r"^\s*(\d{1,3})\s*[-–—]\s*(\d{1,3})\s*$")
_AGE_OPEN = re.compile(r"^\s*(\d{1,3})\s*\+\s*$")


class PlannedProfile(TypedDict):
    """Zaplanowany profil persony (JSON w `PersonaRun.allocation`)."""

    index: int
    demographics: dict[str, str]
    age: int | None
    gender: str
    education: str
    income: str
    location: str
    occupation: str | None
    traits: dict[str, float]
    full_name: NotRequired[str | None]


def largest_remainder(weights: Mapping[str, float], n: int) -> dict[str, int]:
    """Liczebności koszyków = udział × n zaokrąglony metodą największych reszt (remisy wg kolejności koszyków)."""
    if n < 0:
        raise ValueError("n must not be negative")
    # Najbliższy prosty ułamek: 0.15 to 3/20, nie 0.1499999…, więc remisy zamierzone przez człowieka zostają remisami.
    exact = {bucket: Fraction(weight).limit_denominator(10**9) for bucket, weight in weights.items()}
    if not exact or any(w < 0 for w in exact.values()) or sum(exact.values()) == 0:
        raise ValueError("weights must be non-negative with a positive sum")
    total = sum(exact.values())
    # Arytmetyka dokładna: suma kwot to dokładnie n.
    quotas = {bucket: w * n / total for bucket, w in exact.items()}
    counts = {bucket: math.floor(q) for bucket, q in quotas.items()}
    ranked = sorted(enumerate(quotas), key=lambda pair: (counts[pair[1]] - quotas[pair[1]], pair[0]))
    for _, bucket in ranked[: n - sum(counts.values())]:
        counts[bucket] += 1
    return counts


def topup_counts(weights: Mapping[str, float], n: int, existing: Mapping[str | None, int]) -> dict[str, int]:
    """Kwoty nowej partii tak, by cały panel (istniejące + nowe) był jak najbliżej największych reszt dla sumy.

    Brak do celu każdego koszyka to max(cel − jest, 0); gdy braki sumują się do więcej niż n (jakiś koszyk ma
    nadmiar albo persony spoza celu), n dzieli się między braki metodą największych reszt.
    """
    have = sum(existing.values())
    target = largest_remainder(weights, have + n)
    deficits = {bucket: max(count - existing.get(bucket, 0), 0) for bucket, count in target.items()}
    # Suma braków to co najmniej n (cel sumuje się do istniejących + n); równość, gdy nic nie jest w nadmiarze.
    return deficits if sum(deficits.values()) == n else largest_remainder(deficits, n)


def allocate(
    target: Mapping[str, Mapping[str, float]],
    n: int,
    *,
    seed: int,
    existing: Mapping[str, Mapping[str | None, int]] | None = None,
) -> list[dict[str, str]]:
    """N kombinacji kategoria → koszyk; rozkłady brzegowe są dokładnie kwotami, połączenia losowane z ziarna.

    `existing` (liczebności koszyków już zapisanego panelu) zamienia kwoty na dopełnienie: cały panel po dołożeniu
    tej partii trafia w kwoty dla swojej łącznej liczebności.
    """
    columns: dict[str, list[str]] = {}
    for category, weights in target.items():
        counts = topup_counts(weights, n, existing[category]) if existing else largest_remainder(weights, n)
        labels = [bucket for bucket, count in counts.items() for _ in range(count)]
        # Osobny generator na kategorię: wynik nie zależy od kolejności kategorii w słowniku.
        random.Random(f"sight:{seed}:allocate:{category}").shuffle(labels)
        columns[category] = labels
    return [{category: labels[i] for category, labels in columns.items()} for i in range(n)]


def parse_age_range(bucket: str) -> tuple[int, int] | None:
    """Zakres wieku z etykiety koszyka („18-24”, „65+”); None, gdy etykieta nie jest zakresem."""
    if match := _AGE_RANGE.match(bucket):
        low, high = int(match[1]), int(match[2])
        return (low, high) if low <= high else None
    if match := _AGE_OPEN.match(bucket):
        return int(match[1]), int(match[1]) + OPEN_AGE_SPAN
    return None


def draw_age(bucket: str | None, rng: random.Random) -> int | None:
    """Wiek wylosowany równomiernie w koszyku; None, gdy koszyka nie ma albo nie da się go odczytać."""
    bounds = parse_age_range(bucket) if bucket else None
    return rng.randint(*bounds) if bounds else None


def trait_shifts(preset: str | None) -> dict[str, float]:
    """Przesunięcia średnich cech z presetu w features.yaml; nieznany preset lub cecha to ValueError."""
    if not preset:
        return {}
    presets = config.load_features().personas.trait_presets
    if preset not in presets:
        raise ValueError(f"unknown trait preset {preset!r}; known: {', '.join(sorted(presets))}")
    unknown = sorted(set(presets[preset]) - set(TRAITS))
    if unknown:
        raise ValueError(f"trait preset {preset!r} names unknown traits: {', '.join(unknown)}")
    return dict(presets[preset])


def draw_traits(rng: random.Random, shifts: Mapping[str, float] | None = None) -> dict[str, float]:
    """Cechy Big Five i Hofstede w [0, 1] z rozkładów beta wokół 0.5 (+ przesunięcie presetu)."""
    traits: dict[str, float] = {}
    for trait in TRAITS:
        mean = min(max(0.5 + (shifts or {}).get(trait, 0.0), MEAN_LIMITS[0]), MEAN_LIMITS[1])
        k = BIG_FIVE_CONCENTRATION if trait in BIG_FIVE else HOFSTEDE_CONCENTRATION
        traits[trait] = round(rng.betavariate(mean * k, (1 - mean) * k), 4)
    return traits


def pick_occupation(
    rng: random.Random, *, age: int | None, education: str, income: str, occupations: Sequence[Occupation]
) -> str | None:
    """Zawód zgodny z wiekiem, wykształceniem i dochodem; warunek, o którym słownik milczy, pomija się; None, gdy nic
    nie pasuje.
    """
    known_education = {e for o in occupations for e in o.education}
    known_income = {i for o in occupations for i in o.income}
    fitting = [
        o.name
        for o in occupations
        if (age is None or o.min_age <= age <= o.max_age)
        and (education not in known_education or not o.education or education in o.education)
        and (income not in known_income or not o.income or income in o.income)
    ]
    return rng.choice(fitting) if fitting else None


def find_preset(
    target: Mapping[str, Mapping[str, float]], language: str, presets: Iterable[DemographicPreset] | None = None
) -> DemographicPreset | None:
    """Preset rynku najbliższy rozkładowi projektu (najwięcej wspólnych koszyków, potem język); None, gdy żaden nie
    pasuje.
    """
    wanted = {(c, b) for c, buckets in target.items() for b in buckets}
    best, best_score = None, (0, False)
    for preset in config.load_demographics().values() if presets is None else presets:
        shared = len(wanted & {(c, b) for c, cat in preset.categories.items() for b in cat.buckets})
        score = (shared, preset.language == language)
        if score > best_score:
            best, best_score = preset, score
    return best


def column_value(demographics: Mapping[str, str], column: str) -> str:
    """Koszyk kategorii odpowiadającej kolumnie persony (np. `gender`); pusty tekst, gdy rozkład jej nie ma."""
    return next((demographics[c] for c in COLUMN_CATEGORIES[column] if c in demographics), "")


def normalise_name(name: str) -> str:
    """Imię i nazwisko do porównań: bez różnic wielkości liter i odstępów."""
    return " ".join(name.split()).casefold()


def draw_name(rng: random.Random, gender: str, vocabularies: Vocabularies | None, taken: set[str]) -> str | None:
    """Imię i nazwisko ze słownika presetu, zgodne z płcią i jeszcze niezajęte w projekcie; None, gdy się nie da."""
    if vocabularies is None or gender not in vocabularies.first_names:
        return None
    surnames = vocabularies.surnames
    pool = surnames.get(gender, []) if isinstance(surnames, dict) else list(surnames)
    first_names = vocabularies.first_names[gender]
    # Kilka prób losowych, potem przegląd wszystkich par: wolne nazwisko znajdzie się, dopóki słownik się nie wyczerpie.
    for _ in range(20):
        name = f"{rng.choice(first_names)} {rng.choice(pool)}" if pool else None
        if name and normalise_name(name) not in taken:
            return name
    free = [f"{f} {s}" for f in first_names for s in pool if normalise_name(f"{f} {s}") not in taken]
    return rng.choice(free) if free else None


def plan_profiles(
    target: Mapping[str, Mapping[str, float]],
    n: int,
    *,
    seed: int,
    trait_preset: str | None = None,
    occupations: Sequence[Occupation] = (),
    existing: Mapping[str, Mapping[str | None, int]] | None = None,
    vocabularies: Vocabularies | None = None,
    taken_names: Iterable[str] = (),
) -> list[PlannedProfile]:
    """Plan N profili (1–max_per_run): kwoty demograficzne, wiek, zawód, cechy i (ze słownikiem) imię i nazwisko.

    Ten sam seed przy tym samym panelu wyjściowym daje ten sam plan; `existing` dopełnia kwoty istniejącego panelu,
    a imiona z `taken_names` się nie powtarzają.
    """
    limit = config.load_features().personas.max_per_run
    if not 1 <= n <= limit:
        raise ValueError(f"number of personas must be between 1 and {limit}")
    shifts = trait_shifts(trait_preset)
    taken = {normalise_name(name) for name in taken_names}
    profiles: list[PlannedProfile] = []
    for index, demographics in enumerate(allocate(target, n, seed=seed, existing=existing)):
        # Generatory na profil: profil i nie zależy od poprzednich, a cechy — ani od demografii, ani od słownika
        # zawodów.
        rng = random.Random(f"sight:{seed}:profile:{index}")
        age = draw_age(column_value(demographics, "age"), rng)
        education, income = column_value(demographics, "education"), column_value(demographics, "income")
        gender = column_value(demographics, "gender")
        name = draw_name(random.Random(f"sight:{seed}:name:{index}"), gender, vocabularies, taken)
        if name:
            taken.add(normalise_name(name))
        profiles.append(
            PlannedProfile(
                index=index,
                demographics=demographics,
                age=age,
                gender=gender,
                education=education,
                income=income,
                location=column_value(demographics, "location"),
                occupation=pick_occupation(rng, age=age, education=education, income=income, occupations=occupations),
                traits=draw_traits(random.Random(f"sight:{seed}:traits:{index}"), shifts),
                full_name=name,
            )
        )
    return profiles


def plan_for_project(project: Project, n: int, *, seed: int, trait_preset: str | None = None) -> list[PlannedProfile]:
    """Plan dopełniający panel projektu: kwoty liczone na całości (zapisane persony + nowe), imiona spoza zajętych;
    zawody i imiona ze słownika najbliższego presetu rynku, jeśli jest.
    """
    from personas.models import Persona  # modele importują ten moduł (cechy), więc import na miejscu

    preset = find_preset(project.target_demographics, project.language)
    # Projekt jeszcze niezapisany (podgląd planu) nie ma panelu.
    personas = Persona.objects.none() if project._state.adding else Persona.objects.filter(project=project)
    panel = list(personas.active().values_list("demographics", flat=True))
    existing = {
        category: Counter(d.get(category) if isinstance(d, dict) else None for d in panel)
        for category in project.target_demographics
    }
    return plan_profiles(
        project.target_demographics,
        n,
        seed=seed,
        trait_preset=trait_preset,
        occupations=preset.vocabularies.occupations if preset else (),
        existing=existing if panel else None,
        vocabularies=preset.vocabularies if preset else None,
        # Także usunięte (do przywrócenia): po przywróceniu imię nie może się zdublować.
        taken_names=personas.values_list("full_name", flat=True),
    )
