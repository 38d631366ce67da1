#!/usr/bin/env python
"""Narzędzie wiersza poleceń Django dla Sight."""

import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sight.settings")
    from django.conf import settings
    from django.core.management import execute_from_command_line
    from django.db import OperationalError

    try:
        execute_from_command_line(sys.argv)
    except OperationalError as exc:
        # Bez DATABASE_URL i bez działającego `make run` jedno zdanie, co zrobić, zamiast śladu psycopg.
        if settings.SIGHT_DATABASE_CONFIGURED:
            raise
        reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        sys.exit(f"No database configured: start `make run` in another terminal, or set DATABASE_URL ({reason})")
