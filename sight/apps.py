"""Konfiguracja aplikacji rdzenia."""

from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext_lazy as _


class SightConfig(AppConfig):
    """Rdzeń Sight: rejestruje kontrole systemowe, wczytuje obsługę zadań (`<app>.tasks`) i sekcje strony projektu
    (`<app>.sections`).
    """

    name = "sight"
    verbose_name = _("Sight")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Rejestruje kontrole, obsługę zadań i sekcje strony projektu wszystkich aplikacji."""
        from sight import checks  # noqa: F401

        autodiscover_modules("tasks")
        autodiscover_modules("sections")
