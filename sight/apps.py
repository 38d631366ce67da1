"""Konfiguracja aplikacji rdzenia."""

from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext_lazy as _


class SightConfig(AppConfig):
    """Rdzeń Sight: rejestruje kontrole systemowe i wczytuje to, co aplikacje do niego wnoszą: obsługę zadań
    (`<app>.tasks`), sekcje strony projektu (`<app>.sections`), kroki odbudowy grafu (`<app>.graph`) i dane demo
    (`<app>.demo`).
    """

    name = "sight"
    verbose_name = _("Sight")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Rejestruje kontrole, obsługę zadań, sekcje strony projektu, kroki odbudowy grafu i dane demo aplikacji."""
        from sight import checks  # noqa: F401

        autodiscover_modules("tasks", "sections", "graph", "demo")
