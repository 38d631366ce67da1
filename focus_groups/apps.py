"""Konfiguracja aplikacji focus_groups."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FocusGroupsConfig(AppConfig):
    """Aplikacja focus_groups."""

    name = "focus_groups"
    verbose_name = _("Focus groups")
    default_auto_field = "django.db.models.BigAutoField"
