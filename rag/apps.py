"""Konfiguracja aplikacji rag."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RagConfig(AppConfig):
    """Aplikacja rag."""

    name = "rag"
    verbose_name = _("Rag")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Rozgrzewka serwera: słowniki lematyzatora (pl, en) przed pierwszym wyszukiwaniem."""
        from rag.lexicon import warm_up
        from sight.worker import WARM_UPS

        WARM_UPS.append(warm_up)
