"""`manage.py create_api_token --user EMAIL [--name NAME]`: wystawia token API; ostatnia linia to sam token."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from sight.models import ApiToken, User


class Command(BaseCommand):
    help = "Create an API token for an existing user and print it (only the token, on the last line)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", required=True, help="e-mail of an existing user")
        parser.add_argument("--name", default="cli", help="label for the token")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(email__iexact=options["user"]).first()
        if user is None:
            raise CommandError(f"no user with e-mail {options['user']!r}")
        _, raw = ApiToken.issue(user=user, name=options["name"])
        self.stdout.write(raw)
