#!/usr/bin/env python
"""Narzędzie wiersza poleceń Django dla Sight."""

import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sight.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
