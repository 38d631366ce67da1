"""Formularze HTML: rejestracja konta, reset hasła z limitem, projekt z edytorem rozkładu demograficznego, token API."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.contrib.auth.forms import BaseUserCreationForm, PasswordResetForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

import config
from sight.accounts import allow_password_reset
from sight.demographics import category_label, demographics_errors
from sight.models import ApiToken, Project, User
from sight.text import localized_number

NAME_KEY = re.compile(r"^dist-(\d{1,3})-name$")
BUCKET_KEY = re.compile(r"^dist-(\d{1,3})-(\d{1,3})-(bucket|weight)$")
MAX_WEIGHT_CHARS = 32


class SignupForm(BaseUserCreationForm):
    """Rejestracja: e-mail i dwukrotnie hasło (walidatory haseł Django)."""

    class Meta:
        model = User
        fields = ("email",)

    def clean_email(self) -> str:
        """E-mail małymi literami i niezajęty (bez względu na wielkość liter)."""
        email = User.objects.normalize_email(self.cleaned_data["email"]).lower()
        if User.objects.filter(email__iexact=email).exists():
            raise ValidationError(_("An account with this e-mail already exists."), code="unique")
        return email


class LimitedPasswordResetForm(PasswordResetForm):
    """Reset hasła z limitem e-maili na godzinę; ponad limitem nic nie wysyła, a strona odpowiada tak samo."""

    def save(self, *args: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
        """Wysyła e-mail resetu tylko w limicie (sight.accounts.allow_password_reset)."""
        if allow_password_reset(self.cleaned_data["email"], request):
            super().save(*args, request=request, **kwargs)


@dataclass
class BucketRow:
    """Jeden wiersz edytora: koszyk i jego waga (surowy tekst z formularza)."""

    index: int
    name: str = ""
    weight: str = ""
    extra: bool = False

    @property
    def is_blank(self) -> bool:
        """Pusty wiersz (bez nazwy i wagi) jest pomijany."""
        return not self.name.strip() and not self.weight.strip()


@dataclass
class CategoryBlock:
    """Kategoria w edytorze: nazwa, wiersze koszyków, błędy pokazywane przy niej."""

    index: int
    name: str = ""
    buckets: list[BucketRow] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    extra: bool = False

    @property
    def is_blank(self) -> bool:
        """Kategoria bez nazwy i bez wypełnionych wierszy."""
        return not self.name.strip() and all(b.is_blank for b in self.buckets)

    @property
    def label(self) -> str:
        """Etykieta kategorii z presetu rynku, którego koszyki pasują najlepiej; pusta dla nazwy spoza presetów."""
        return category_label(self.name, buckets=[b.name for b in self.buckets], default="") if self.name else ""

    @property
    def total(self) -> float:
        """Suma wag, które dają się odczytać jako skończone liczby (podgląd bez JavaScriptu)."""
        weights = [parse_weight(b.weight) for b in self.buckets if not b.is_blank]
        return math.fsum(w for w in weights if isinstance(w, float) and math.isfinite(w))

    @property
    def total_display(self) -> str:
        """Suma do wyświetlenia (do 6 miejsc po przecinku, bez zbędnych zer)."""
        return localized_number(round(self.total, 6))

    @property
    def total_ok(self) -> bool:
        """Czy suma wag wynosi 1 (z tolerancją walidacji)."""
        return abs(self.total - 1.0) <= 1e-6

    @property
    def next_bucket_index(self) -> int:
        """Indeks dla kolejnego wiersza koszyka."""
        return max((b.index for b in self.buckets), default=-1) + 1


def parse_weight(raw: str) -> float | str:
    """Waga z tekstu (przecinek dziesiętny dozwolony); nieczytelny tekst zostaje tekstem, by walidacja go zgłosiła."""
    text = raw.strip().replace(",", ".")
    if len(text) > MAX_WEIGHT_CHARS:
        return raw
    try:
        return float(text)
    except ValueError:
        return raw


def blocks_from_data(data: Mapping[str, Any]) -> list[CategoryBlock]:
    """Odczytuje kategorie i koszyki z pól `dist-<k>-name`, `dist-<k>-<b>-bucket`, `dist-<k>-<b>-weight`."""
    blocks: dict[int, CategoryBlock] = {}
    for key in data:
        if match := NAME_KEY.match(key):
            blocks.setdefault(int(match[1]), CategoryBlock(index=int(match[1]))).name = str(data.get(key, ""))
        elif match := BUCKET_KEY.match(key):
            block = blocks.setdefault(int(match[1]), CategoryBlock(index=int(match[1])))
            row = next((b for b in block.buckets if b.index == int(match[2])), None)
            if row is None:
                row = BucketRow(index=int(match[2]))
                block.buckets.append(row)
            setattr(row, "name" if match[3] == "bucket" else "weight", str(data.get(key, "")))
    for block in blocks.values():
        block.buckets.sort(key=lambda b: b.index)
    return [blocks[i] for i in sorted(blocks)]


def _natural_key(text: str) -> list[tuple[int, int, str]]:
    return [(0, int(part), "") if part.isdigit() else (1, 0, part.lower()) for part in re.split(r"(\d+)", text) if part]


def display_order(distribution: dict[str, Any]) -> list[tuple[str, list[tuple[str, Any]]]]:
    """Kolejność wyświetlania: jak w presetach rynków (JSONB nie zachowuje kolejności kluczy), pozostałe —
    naturalnie.
    """
    known: dict[str, list[str]] = {}
    for preset in config.load_demographics().values():
        for name, category in preset.categories.items():
            known.setdefault(name, []).extend(b for b in category.buckets if b not in known.get(name, []))
    rank = {name: i for i, name in enumerate(known)}
    ordered = []
    for name in sorted(distribution, key=lambda c: (rank.get(c, len(rank)), _natural_key(c))):
        buckets = distribution[name] if isinstance(distribution[name], dict) else {}
        position = {b: i for i, b in enumerate(known.get(name, []))}
        ordered.append(
            (
                name,
                sorted(buckets.items(), key=lambda item: (position.get(item[0], len(position)), _natural_key(item[0]))),
            )
        )
    return ordered


def blocks_from_distribution(value: Any) -> list[CategoryBlock]:
    """Zamienia zapisany rozkład (kategoria → {koszyk: waga}) na bloki edytora."""
    if not isinstance(value, dict):
        return []
    return [
        CategoryBlock(
            index=i,
            name=str(category),
            buckets=[BucketRow(index=j, name=str(b), weight=str(w)) for j, (b, w) in enumerate(buckets)],
        )
        for i, (category, buckets) in enumerate(display_order(value))
    ]


def with_blank_rows(blocks: list[CategoryBlock]) -> list[CategoryBlock]:
    """Dokłada puste wiersze i pustą kategorię, by bez JavaScriptu dało się dopisać koszyk lub kategorię."""
    for block in blocks:
        block.buckets.append(BucketRow(index=block.next_bucket_index, extra=True))
    index = max((b.index for b in blocks), default=-1) + 1
    blocks.append(CategoryBlock(index=index, buckets=[BucketRow(index=j, extra=True) for j in range(3)], extra=True))
    return blocks


def distribution_from_blocks(blocks: list[CategoryBlock]) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """Buduje rozkład z bloków, dopisuje błędy przy kategoriach; zwraca (rozkład, błędy całości)."""
    distribution: dict[str, dict[str, Any]] = {}
    for block in (b for b in blocks if not b.is_blank):
        name = block.name.strip()
        rows = [r for r in block.buckets if not r.is_blank]
        if not name:
            block.errors.append(str(_("Give this category a name.")))
        elif name in distribution:
            block.errors.append(str(_("The category name “%(name)s” is used twice.") % {"name": name[:64]}))
        if any(not r.name.strip() for r in rows):
            block.errors.append(str(_("Every weight needs a bucket name.")))
        bucket_names = [r.name.strip() for r in rows if r.name.strip()]
        for dup in sorted({b for b in bucket_names if bucket_names.count(b) > 1}):
            block.errors.append(str(_("The bucket “%(name)s” appears twice.") % {"name": dup[:64]}))
        if not block.errors:
            distribution[name] = {r.name.strip(): parse_weight(r.weight) for r in rows}
    general: list[str] = []
    if distribution or not any(b.errors for b in blocks):
        for key, messages in demographics_errors(distribution).items():
            target = next((b for b in blocks if b.name.strip()[:64] == key), None)
            (target.errors if target and key != "__all__" else general).extend(messages)
    return distribution, general


class DistributionWidget(forms.Widget):
    """Czyta edytor rozkładu z wielu pól formularza (renderowany w szablonie `projects/form.html`)."""

    def value_from_datadict(self, data: Mapping[str, Any], files: Any, name: str) -> list[CategoryBlock]:
        """Lista bloków kategorii z danych POST."""
        return blocks_from_data(data)

    def value_omitted_from_data(self, data: Mapping[str, Any], files: Any, name: str) -> bool:
        """Edytor zawsze coś przesyła (choćby pustą listę)."""
        return False


class DistributionField(forms.Field):
    """Pole rozkładu: przekazuje bloki edytora do `ProjectForm.clean_target_demographics`."""

    widget = DistributionWidget

    def to_python(self, value: Any) -> Any:
        """Bloki bez zmian (walidacja w formularzu, bo błędy trafiają do kategorii)."""
        return value

    def validate(self, value: Any) -> None:
        """Pustka jest zgłaszana przez walidację rozkładu, z lepszym komunikatem."""


class ProjectForm(forms.ModelForm):
    """Projekt badawczy z edytorem rozkładu demograficznego (kategorie, koszyki, wagi)."""

    target_demographics = DistributionField(label=_("Target demographics"), required=False)

    class Meta:
        model = Project
        fields = (
            "name",
            "description",
            "target_audience",
            "research_objectives",
            "notes",
            "language",
            "target_sample_size",
            "token_budget",
            "target_demographics",
        )
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "target_audience": forms.Textarea(attrs={"rows": 2}),
            "research_objectives": forms.Textarea(attrs={"rows": 3}),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._blocks: list[CategoryBlock] | None = None
        self._editor: list[CategoryBlock] | None = None

    def clean_target_demographics(self) -> dict[str, dict[str, Any]]:
        """Rozkład z edytora; błędy przy kategoriach, ogólne — przy polu."""
        blocks = self.cleaned_data.get("target_demographics") or []
        self._blocks = blocks
        distribution, general = distribution_from_blocks(blocks)
        if general or any(b.errors for b in blocks):
            raise ValidationError(
                general or [_("Correct the distribution: see the messages at each category.")],
                code="invalid_demographics",
            )
        return distribution

    def show_distribution(self, value: dict[str, dict[str, float]] | None, data: Mapping[str, Any]) -> None:
        """Ustawia zawartość edytora: podany rozkład (preset) albo to, co było w przesłanych polach."""
        if value is not None:
            blocks = blocks_from_distribution(value)
        else:
            blocks = [b for b in blocks_from_data(data) if not b.is_blank]
            for block in blocks:
                block.buckets = [r for r in block.buckets if not r.is_blank]
        self._editor = with_blank_rows(blocks)

    def editor_blocks(self) -> list[CategoryBlock]:
        """Bloki do wyrenderowania: przesłane (z błędami) albo zapisane/początkowe, z pustymi wierszami."""
        if self._editor is not None:
            return self._editor
        if self.is_bound:
            blocks = [
                b for b in (self._blocks if self._blocks is not None else blocks_from_data(self.data)) if not b.is_blank
            ]
            for block in blocks:
                block.buckets = [r for r in block.buckets if not r.is_blank]
        else:
            blocks = blocks_from_distribution(self.initial.get("target_demographics"))
        self._editor = with_blank_rows(blocks)
        return self._editor


class ApiTokenForm(forms.Form):
    """Nazwa nowego tokenu API."""

    name = forms.CharField(
        label=_("Token name"),
        max_length=ApiToken._meta.get_field("name").max_length,
        help_text=_("For example the script or machine that will use it."),
    )
