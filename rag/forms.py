"""Formularze bazy wiedzy: przesłanie pliku i pytanie do dokumentów."""

from django import forms
from django.utils.translation import gettext_lazy as _


class UploadForm(forms.Form):
    """Plik do bazy wiedzy (typ i rozmiar sprawdza `rag.ingest.accept_upload`)."""

    # Pusty plik przechodzi: kończy jako dokument „failed” z powodem, tak samo jak przez API.
    file = forms.FileField(label=_("File (PDF, DOCX, TXT or Markdown)"), allow_empty_file=True)
    title = forms.CharField(label=_("Title (optional)"), max_length=300, required=False)


class SearchForm(forms.Form):
    """Pytanie do dokumentów projektu."""

    q = forms.CharField(label=_("Ask your documents"), max_length=2000)


class AskForm(forms.Form):
    """Pytanie do bazy wiedzy."""

    question = forms.CharField(label=_("Question"), max_length=2000, strip=True)
