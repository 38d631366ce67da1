"""Konfiguracja aplikacji personas."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PersonasConfig(AppConfig):
    """Aplikacja personas."""

    name = "personas"
    verbose_name = _("Personas")
    default_auto_field = "django.db.models.BigAutoField"
