"""Fuzzer kontraktu API: Schemathesis generuje żądania z naszego schematu OpenAPI i sprawdza odpowiedzi wszystkimi
swoimi testami (brak 5xx, udokumentowane kody i kształty, poprawne dane przyjęte, błędne odrzucone, 401 bez tokenu…).

Każda operacja to osobny test pytest-django w transakcji: ścieżki trafiają w prawdziwe obiekty o stałych
identyfikatorach (projekt, persona, grupa, zadanie), więc usunięcie projektu w jednym teście nie zabiera danych innym.
Zadania w tle nie startują — `on_commit` nie zachodzi w transakcji testu — więc fuzzer nigdy nie woła LLM.
"""

import uuid

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from focus_groups.models import FocusGroup, Participant
from sight.models import Job
from tests.factories import create_persona, create_project, create_token

PROJECT_ID = uuid.UUID("00000000-0000-4000-8000-00000000f001")
PERSONA_ID = uuid.UUID("00000000-0000-4000-8000-00000000f002")
FOCUS_GROUP_ID = uuid.UUID("00000000-0000-4000-8000-00000000f003")
JOB_ID = uuid.UUID("00000000-0000-4000-8000-00000000f004")
# Losowe przykłady na operację, oprócz przypadków brzegowych fazy pokrycia (razem ~1800 żądań na 35 operacji,
# około półtorej minuty na dwóch zajętych rdzeniach; czas zjada głównie generowanie danych, nie Django).
EXAMPLES = 5

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())
schema.config.update(
    parameters={
        "project_id": str(PROJECT_ID),
        "persona_id": str(PERSONA_ID),
        "focus_group_id": str(FOCUS_GROUP_ID),
        "job_id": str(JOB_ID),
    }
)


@pytest.fixture
def token(db):
    """Użytkownik z tokenem i jego świat: projekt z panelem, grupa fokusowa i zadanie."""
    # Jak klient testowy Django: bez zamykania połączenia na początku i końcu żądania, które zerwałoby transakcję testu.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield _world()
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def _world() -> str:
    user, raw = create_token()
    project = create_project(owner=user, id=PROJECT_ID)
    people = [create_persona(project=project, id=PERSONA_ID), create_persona(project=project)]
    fg = FocusGroup.objects.create(id=FOCUS_GROUP_ID, project=project, name="Fuzz", questions=[{"text": "?"}])
    Participant.objects.bulk_create([Participant(focus_group=fg, persona=p, position=i) for i, p in enumerate(people)])
    Job.objects.create(id=JOB_ID, kind="personas.generate", user=user, project=project, status=Job.Status.SUCCEEDED)
    return raw


# Jedyny wyjątek: uczestników grupy wskazuje się identyfikatorami person z panelu projektu, a dyskusja potrzebuje
# co najmniej dwóch osób (wywiady — jednej). Istnienia obiektów ani zależności od trybu JSON Schema nie wyrazi, więc
# poprawna według schematu lista losowych identyfikatorów dostaje 422; reszta testów obowiązuje i tu.
DATA_DEPENDENT = {"POST /api/v1/projects/{project_id}/focus-groups", "PATCH /api/v1/focus-groups/{focus_group_id}"}
# Kwestionariusz ankiety: powtórzone etykiety, min > max i logika do późniejszego pytania to zależności między polami.
DATA_DEPENDENT |= {"POST /api/v1/projects/{project_id}/surveys", "PATCH /api/v1/surveys/{survey_id}"}
# Typ przesłanego dokumentu rozpoznajemy po rozszerzeniu i treści pliku, czego schemat multipart nie wyrazi.
DATA_DEPENDENT |= {"POST /api/v1/projects/{project_id}/documents"}
# To samo dla pliku z odpowiedziami ludzi; do tego parser multipart Django gubi pustą część pliku („file” brak → 422).
DATA_DEPENDENT |= {"POST /api/v1/surveys/{survey_id}/human-samples"}


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_api_keeps_its_openapi_contract(case, token):
    excluded = [positive_data_acceptance] if case.operation.label in DATA_DEPENDENT else []
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, excluded_checks=excluded)
