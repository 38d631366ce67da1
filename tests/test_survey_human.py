"""Porównanie z próbą ludzką: przesłanie CSV (`;`, cp1250), XLSX i .sav z etykietami, propozycja przypisania,
KS i TVD równe liczonym ręcznie i przez scipy, wrogie pliki to 4xx, cudza ankieta to 404, stała liczba zapytań.
"""

import io
import json
import zipfile
from pathlib import Path

import openpyxl
import polars as pl
import pyreadstat
import pytest
import scipy
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats

from surveys.builder import SurveyIn, create_survey
from surveys.models import Answer, HumanSample, Survey
from tests.factories import api_client, create_persona, create_project, create_token, create_user, visible_text

pytestmark = pytest.mark.django_db

QUESTIONS = [
    {"type": "single_choice", "text": "Czy kupiłbyś ten produkt?", "options": [{"label": "Tak"}, {"label": "Nie"}]},
    {"type": "rating", "text": "Jak bardzo jesteś zadowolony z usługi?", "points": 5, "construct": "satisfaction"},
    {"type": "rating", "text": "Jak oceniasz cenę?", "points": 5, "construct": "satisfaction", "method": "direct"},
    {"type": "rating", "text": "Jak oceniasz jakość?", "points": 5, "construct": "satisfaction", "method": "direct"},
    {"type": "nps", "text": "Jak prawdopodobne jest, że polecisz nas znajomym?"},
    {"type": "numeric", "text": "Ile zapłaciłbyś za produkt?", "min": 0, "max": 1000, "unit": "zł"},
]
# Persony: 6 kobiet i 4 mężczyzn. Skala SSR ma rozkłady, pozostałe pytania — wybory wprost.
CHOICES = ["o1"] * 6 + ["o2"] * 4
SSR_PMFS = [[0.1, 0.2, 0.4, 0.2, 0.1]] * 5 + [[0.0, 0.1, 0.2, 0.3, 0.4]] * 5
PRICE_RATINGS = [1, 2, 2, 3, 3, 3, 4, 4, 5, 5]
QUALITY_RATINGS = [3, 3, 4, 4, 4, 4, 5, 5, 5, 2]
NPS = [10, 9, 9, 8, 7, 6, 5, 10, 3, 9]
PRICES = [10, 12.5, 15, 20, 20, 25, 30, 30, 40, 50]
# Ludzie: 8 osób.
HUMAN = [
    ("Płeć", "Czy kupiłbyś ten produkt?", "Jak bardzo jesteś zadowolony z usługi?", "Jak oceniasz cenę?"),
    ("Kobieta", "Tak", "5", "1"),
    ("Kobieta", "Tak", "4", "2"),
    ("Mężczyzna", "Nie", "3", "2"),
    ("Kobieta", "Tak", "4", "1"),
    ("Mężczyzna", "Tak", "5", "3"),
    ("Mężczyzna", "Nie", "2", ""),
    ("Kobieta", "Tak", "4", "4"),
    ("Kobieta", "Nie", "5", "5"),
]


def make_survey(owner=None):
    project = create_project(owner=owner or create_user())
    survey = create_survey(project, SurveyIn.model_validate({"name": "Test koncepcji", "questions": QUESTIONS}))
    survey.status = Survey.Status.COMPLETED
    survey.save()
    questions = list(survey.questions.order_by("order"))
    personas = [create_persona(project=project, gender="female" if i < 6 else "male") for i in range(10)]
    rows = []
    for i, persona in enumerate(personas):
        rows += [
            Answer(survey=survey, question=questions[0], persona=persona, value=CHOICES[i], method="direct"),
            Answer(survey=survey, question=questions[1], persona=persona, value=3, pmf=SSR_PMFS[i], method="ssr"),
            Answer(survey=survey, question=questions[2], persona=persona, value=PRICE_RATINGS[i], method="direct"),
            Answer(survey=survey, question=questions[3], persona=persona, value=QUALITY_RATINGS[i], method="direct"),
            Answer(survey=survey, question=questions[4], persona=persona, value=NPS[i], method="direct"),
            Answer(survey=survey, question=questions[5], persona=persona, value=PRICES[i], method="direct"),
        ]
    Answer.objects.bulk_create(rows)
    return survey, questions


def owner():
    user, token = create_token()
    return user, api_client(token)


def csv_bytes(rows, *, delimiter=";", encoding="cp1250"):
    return "\r\n".join(delimiter.join(row) for row in rows).encode(encoding)


def upload(client, survey, name, data):
    return client.post(f"/api/v1/surveys/{survey.id}/human-samples", {"file": SimpleUploadedFile(name, data)})


def put_mapping(client, survey, sample_id, body):
    url = f"/api/v1/surveys/{survey.id}/human-samples/{sample_id}/mapping"
    return client.put(url, data=json.dumps(body), content_type="application/json")


def test_a_semicolon_cp1250_csv_is_read_with_polish_text_and_the_mapping_is_prefilled_from_labels():
    user, client = owner()
    survey, questions = make_survey(user)
    resp = upload(client, survey, "ludzie.csv", csv_bytes(HUMAN))
    assert resp.status_code == 201, resp.content
    sample = resp.json()
    assert sample["row_count"] == 8 and sample["file_format"] == "csv"
    gender = sample["columns"][0]
    assert gender["name"] == "Płeć"
    assert {v["code"]: v["count"] for v in gender["values"]} == {"Kobieta": 5, "Mężczyzna": 3}
    mapping = sample["mapping"]
    by_question = {m["question"]: m for m in mapping["questions"]}
    assert set(by_question) == {str(q.id) for q in questions[:3]}
    assert by_question[str(questions[0].id)] == {
        "question": str(questions[0].id),
        "column": "Czy kupiłbyś ten produkt?",
        "values": {"Tak": "o1", "Nie": "o2"},
    }
    assert by_question[str(questions[1].id)]["values"] == {"2": 2, "3": 3, "4": 4, "5": 5}
    assert mapping["segment"] == {
        "column": "Płeć",
        "category": "gender",
        "values": {"Kobieta": "female", "Mężczyzna": "male"},
    }
    again = client.get(f"/api/v1/surveys/{survey.id}/human-samples/{sample['id']}/mapping?proposed=true").json()
    assert again == mapping


def test_a_utf8_csv_with_bom_and_commas_without_diacritics_in_headers_still_maps():
    user, client = owner()
    survey, questions = make_survey(user)
    rows = [("plec", "czy KUPILBYS ten produkt"), ("kobieta", "tak"), ("mezczyzna", "nie")]
    data = "\ufeff".encode() + csv_bytes(rows, delimiter=",", encoding="utf-8")
    sample = upload(client, survey, "data.csv", data).json()
    assert sample["columns"][0]["name"] == "plec"
    assert sample["mapping"]["questions"] == [
        {"question": str(questions[0].id), "column": "czy KUPILBYS ten produkt", "values": {"tak": "o1", "nie": "o2"}}
    ]
    assert sample["mapping"]["segment"]["values"] == {"kobieta": "female", "mezczyzna": "male"}


def test_xlsx_and_sav_round_trip_with_variable_and_value_labels(tmp_path: Path):
    user, client = owner()
    survey, questions = make_survey(user)
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in HUMAN:
        sheet.append([int(v) if v.isdigit() else (v or None) for v in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    xlsx = upload(client, survey, "ludzie.xlsx", buffer.getvalue()).json()
    assert xlsx["row_count"] == 8
    assert [c["name"] for c in xlsx["columns"]] == list(HUMAN[0])
    assert {v["code"] for v in xlsx["columns"][2]["values"]} == {"2", "3", "4", "5"}

    frame = pl.DataFrame({"plec": [1.0, 2.0, 1.0], "q1": [1.0, 2.0, None], "q2": [5.0, 4.0, 1.0]})
    path = tmp_path / "ludzie.sav"
    pyreadstat.write_sav(
        frame,
        str(path),
        column_labels=["Płeć", "Czy kupiłbyś ten produkt?", "Jak bardzo jesteś zadowolony z usługi?"],
        variable_value_labels={"plec": {1.0: "Kobieta", 2.0: "Mężczyzna"}, "q1": {1.0: "Tak", 2.0: "Nie"}},
    )
    sav = upload(client, survey, "ludzie.sav", path.read_bytes()).json()
    assert sav["file_format"] == "sav" and sav["row_count"] == 3
    assert [(c["name"], c["label"]) for c in sav["columns"]] == [
        ("plec", "Płeć"),
        ("q1", "Czy kupiłbyś ten produkt?"),
        ("q2", "Jak bardzo jesteś zadowolony z usługi?"),
    ]
    assert sav["columns"][1]["values"] == [
        {"code": "1", "label": "Tak", "count": 1},
        {"code": "2", "label": "Nie", "count": 1},
    ]
    by_question = {m["question"]: m for m in sav["mapping"]["questions"]}
    assert by_question[str(questions[0].id)]["values"] == {"1": "o1", "2": "o2"}
    assert by_question[str(questions[1].id)] == {
        "question": str(questions[1].id),
        "column": "q2",
        "values": {"1": 1, "4": 4, "5": 5},
    }
    assert sav["mapping"]["segment"]["values"] == {"1": "female", "2": "male"}


def test_the_comparison_equals_hand_and_scipy_figures_per_question_and_per_segment():
    user, client = owner()
    survey, questions = make_survey(user)
    sample_id = upload(client, survey, "ludzie.csv", csv_bytes(HUMAN)).json()["id"]
    resp = client.get(f"/api/v1/surveys/{survey.id}/human-samples/{sample_id}/comparison")
    assert resp.status_code == 200, resp.content
    result = resp.json()
    choice, ssr, price = result["questions"]
    # Wybór: ludzie 5 × Tak / 3 × Nie, persony 6 / 4; nominalne — bez KS i średnich.
    assert choice["ks_similarity"] is None and choice["mean_difference"] is None
    assert choice["total_variation"] == pytest.approx(abs(5 / 8 - 6 / 10))
    assert [(r["label"], r["human_count"], r["synthetic_count"]) for r in choice["distribution"]] == [
        ("Tak", 5, 6),
        ("Nie", 3, 4),
    ]
    # SSR: strona syntetyczna to suma rozkładów (liczności ułamkowe), KS na dystrybuantach ręcznie.
    synthetic = [sum(p[i] for p in SSR_PMFS) / 10 for i in range(5)]
    human = [0, 1 / 8, 1 / 8, 3 / 8, 3 / 8]
    cdf_h, cdf_s, max_gap, acc_h, acc_s = [], [], 0.0, 0.0, 0.0
    for h, s in zip(human, synthetic, strict=True):
        acc_h, acc_s = acc_h + h, acc_s + s
        cdf_h.append(acc_h)
        cdf_s.append(acc_s)
        max_gap = max(max_gap, abs(acc_h - acc_s))
    assert ssr["ks_similarity"] == pytest.approx(1 - max_gap)
    assert ssr["total_variation"] == pytest.approx(sum(abs(h - s) for h, s in zip(human, synthetic, strict=True)) / 2)
    assert ssr["synthetic_base"] == pytest.approx(10) and ssr["human_base"] == 8
    assert ssr["mean_difference"] == pytest.approx(sum((i + 1) * s for i, s in enumerate(synthetic)) - 32 / 8)
    # Ocena wprost: KS = 1 − statystyka ks_2samp na surowych odpowiedziach (brak odpowiedzi pominięty).
    human_price = [1, 2, 2, 1, 3, 4, 5]
    assert price["ks_similarity"] == pytest.approx(1 - stats.ks_2samp(human_price, PRICE_RATINGS).statistic)
    assert price["human_missing"] == 1 and price["human_base"] == 7
    # Segment płci: kobiety wśród ludzi (5) i person (6 pierwszych).
    women = next(s for s in price["segments"] if s["segment"] == "female")
    assert women["label"] == "kobieta" or women["label"] == "female"
    assert women["ks_similarity"] == pytest.approx(1 - stats.ks_2samp([1, 2, 1, 4, 5], PRICE_RATINGS[:6]).statistic)
    assert women["human_base"] == 5 and women["synthetic_base"] == 6
    assert result["item_means"] is None  # tylko dwa pytania skalowe przypisane
    assert result["not_mapped"] == [4, 5, 6]


def test_three_rating_questions_give_the_item_mean_correlation_and_nps_and_numbers_compare_as_numbers():
    user, client = owner()
    survey, questions = make_survey(user)
    rows = [("s", "p", "j", "n", "cena")] + [
        (str(s), str(p), str(j), str(n), c)
        for s, p, j, n, c in [(5, 1, 3, 10, "10"), (4, 2, 4, 9, "12,5"), (3, 2, 4, 7, "20"), (4, 3, 5, 0, "99")]
    ]
    sample_id = upload(client, survey, "x.csv", csv_bytes(rows, encoding="utf-8")).json()["id"]
    body = {
        "questions": [
            {"question": str(questions[1].id), "column": "s", "values": {str(k): k for k in (3, 4, 5)}},
            {"question": str(questions[2].id), "column": "p", "values": {"1": 1, "2": 2, "3": "3"}},
            {"question": str(questions[3].id), "column": "j", "values": {"3": 3, "4": 4, "5": 5}},
            {"question": str(questions[4].id), "column": "n"},
            {"question": str(questions[5].id), "column": "cena"},
        ]
    }
    resp = put_mapping(client, survey, sample_id, body)
    assert resp.status_code == 200, resp.content
    result = client.get(f"/api/v1/surveys/{survey.id}/human-samples/{sample_id}/comparison").json()
    assert result["item_means"]["n_items"] == 3
    means = [(q["human_mean"], q["synthetic_mean"]) for q in result["questions"][:3]]
    expected = stats.pearsonr([m[0] for m in means], [m[1] for m in means]).statistic
    assert result["item_means"]["pearson"] == pytest.approx(expected)
    nps, price = result["questions"][3:]
    assert nps["ks_similarity"] == pytest.approx(1 - stats.ks_2samp([10, 9, 7, 0], NPS).statistic)
    assert price["ks_similarity"] == pytest.approx(1 - stats.ks_2samp([10, 12.5, 20, 99], PRICES).statistic)
    assert price["human_mean"] == pytest.approx((10 + 12.5 + 20 + 99) / 4)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (
            {"questions": [{"question": "00000000-0000-4000-8000-000000000000", "column": "Płeć"}]},
            "questions.0.question",
        ),
        ({"questions": [{"question": "Q0", "column": "Brak"}]}, "questions.0.column"),
        (
            {"questions": [{"question": "Q0", "column": "Płeć", "values": {"Kobieta": "o9"}}]},
            "questions.0.values.Kobieta",
        ),
        (
            {"questions": [{"question": "Q1", "column": "Jak oceniasz cenę?", "values": {"1": 6}}]},
            "questions.0.values.1",
        ),
        (
            {"questions": [{"question": "Q1", "column": "Jak oceniasz cenę?", "values": {"9": 1}}]},
            "questions.0.values.9",
        ),
        (
            {"segment": {"column": "Płeć", "category": "gender", "values": {"Kobieta": "alien"}}},
            "segment.values.Kobieta",
        ),
    ],
)
def test_a_bad_mapping_is_a_422_naming_the_field(body, field):
    user, client = owner()
    survey, questions = make_survey(user)
    sample_id = upload(client, survey, "ludzie.csv", csv_bytes(HUMAN)).json()["id"]
    for item in body.get("questions", []):
        if item["question"].startswith("Q"):
            item["question"] = str(questions[int(item["question"][1:])].id)
    resp = put_mapping(client, survey, sample_id, body)
    assert resp.status_code == 422, resp.content
    assert ".".join(str(p) for p in resp.json()["detail"][0]["loc"][1:]) == field


def _bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", "0" * 50_000_000)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "data", "words"),
    [
        ("empty.csv", b"", "empty"),
        ("only-header.csv", b"a;b\r\n", "empty"),
        ("photo.csv", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "binary"),
        ("notes.pdf", b"%PDF-1.4", "CSV, XLSX"),
        ("fake.xlsx", b"a;b\n1;2\n", "does not match"),
        ("broken.xlsx", b"PK\x03\x04" + b"\x00" * 100, "damaged"),
        ("bomb.xlsx", _bomb(), "decompression"),
        ("fake.sav", b"$FL2" + b"\x00" * 200, "damaged"),
        ("idl.sav", (Path(scipy.__file__).parent / "io/tests/data/scalar_int64.sav").read_bytes(), "does not match"),
        ("rows.csv", b"a\n" + b"1\n" * 20_001, "more than 20000 data rows"),
        (
            "wide.csv",
            ";".join(f"c{i}" for i in range(301)).encode() + b"\n" + b"1;" * 300 + b"1\n",
            "more than 300 columns",
        ),
    ],
)
def test_hostile_or_malformed_uploads_get_a_422_naming_the_problem(name, data, words):
    user, client = owner()
    survey, _questions = make_survey(user)
    resp = upload(client, survey, name, data)
    assert resp.status_code == 422, resp.content
    detail = resp.json()["detail"][0]
    assert detail["loc"][-1] == "file" and words.lower() in detail["msg"].lower()
    assert not HumanSample.objects.exists()


def test_a_file_over_the_size_limit_is_refused_before_parsing(settings):
    user, client = owner()
    survey, _questions = make_survey(user)
    resp = upload(client, survey, "big.csv", b"a\n" + b"1\n" * (5 * 2**20 + 10))
    assert resp.status_code == 422 and "larger than 10 MB" in resp.json()["detail"][0]["msg"]


def test_another_users_sample_is_a_404_on_every_endpoint_and_page():
    user, client = owner()
    survey, _questions = make_survey(user)
    sample_id = upload(client, survey, "ludzie.csv", csv_bytes(HUMAN)).json()["id"]
    _stranger, other = owner()
    base = f"/api/v1/surveys/{survey.id}/human-samples"
    assert upload(other, survey, "ludzie.csv", csv_bytes(HUMAN)).status_code == 404
    for url in (base, f"{base}/{sample_id}", f"{base}/{sample_id}/mapping", f"{base}/{sample_id}/comparison"):
        assert other.get(url).status_code == 404, url
    assert put_mapping(other, survey, sample_id, {"questions": []}).status_code == 404
    assert other.delete(f"{base}/{sample_id}").status_code == 404
    # Próba innej ankiety tego samego użytkownika pod cudzym adresem też jest 404.
    mine_elsewhere, _q = make_survey(user)
    assert client.get(f"/api/v1/surveys/{mine_elsewhere.id}/human-samples/{sample_id}").status_code == 404
    assert HumanSample.objects.filter(pk=sample_id).exists()
    assert client.delete(f"{base}/{sample_id}").status_code == 204
    assert not HumanSample.objects.exists()


def test_the_comparison_reads_a_constant_number_of_queries_whatever_the_number_of_respondents():
    user, client = owner()
    survey, questions = make_survey(user)
    sample_id = upload(client, survey, "ludzie.csv", csv_bytes(HUMAN)).json()["id"]
    url = f"/api/v1/surveys/{survey.id}/human-samples/{sample_id}/comparison"

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    before = count()
    extra = [create_persona(project=survey.project, gender="male") for _ in range(15)]
    Answer.objects.bulk_create(
        Answer(survey=survey, question=q, persona=p, value=2, pmf=[0.2] * 5, method="ssr")
        for p in extra
        for q in questions[1:3]
    )
    assert count() == before <= 8


def page_client(user, language="en"):
    client = Client()
    client.force_login(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = language
    return client


def test_the_survey_page_uploads_a_file_maps_it_with_a_plain_form_and_shows_validity_lines():
    user = create_user()
    survey, questions = make_survey(user)
    client = page_client(user)
    page = client.get(f"/surveys/{survey.id}/").content.decode()
    assert "Comparison with a human sample" in page and "Validity unknown" in page
    resp = client.post(f"/surveys/{survey.id}/human/upload/", {"file": SimpleUploadedFile("l.csv", csv_bytes(HUMAN))})
    assert resp.status_code == 302, resp.content
    sample = HumanSample.objects.get()
    html = client.get(resp["Location"]).content.decode()
    text = visible_text(html)
    assert "Kobieta" in text and "Save mapping" in text and "KS similarity" in text
    # Zmiana kolumny pytania o cenę na „brak”: pytanie znika z porównania, reszta zostaje.
    form = {
        f"q-{questions[0].id}-column": "Czy kupiłbyś ten produkt?",
        f"q-{questions[0].id}-shown": "Czy kupiłbyś ten produkt?",
        f"q-{questions[0].id}-code-0": "Nie",
        f"q-{questions[0].id}-value-0": "o2",
        f"q-{questions[0].id}-code-1": "Tak",
        f"q-{questions[0].id}-value-1": "",
        f"q-{questions[1].id}-column": "Jak bardzo jesteś zadowolony z usługi?",
        f"q-{questions[2].id}-column": "",
        "segment-column": "Płeć",
        "segment-category": "gender",
    }
    resp = client.post(f"/surveys/{survey.id}/human/{sample.id}/", form)
    assert resp.status_code == 302, resp.content
    sample.refresh_from_db()
    assert sample.status == "mapped"
    assert [m["column"] for m in sample.mapping["questions"]] == [
        "Czy kupiłbyś ten produkt?",
        "Jak bardzo jesteś zadowolony z usługi?",
    ]
    assert sample.mapping["questions"][0]["values"] == {"Nie": "o2"}
    assert sample.mapping["questions"][1]["values"] == {"2": 2, "3": 3, "4": 4, "5": 5}  # nowa kolumna: propozycja
    assert sample.mapping["segment"]["values"] == {"Kobieta": "female", "Mężczyzna": "male"}
    card = visible_text(client.get(f"/surveys/{survey.id}/").content.decode())
    assert "KS similarity" in card and "l.csv" in card and "Validity unknown" not in card
    bad = client.post(f"/surveys/{survey.id}/human/{sample.id}/", {**form, "segment-category": "planet"})
    assert bad.status_code == 422 and "segment.category" in bad.content.decode()
    htmx = client.post(f"/surveys/{survey.id}/human/{sample.id}/", form, HTTP_HX_REQUEST="true")
    assert htmx.status_code == 200 and htmx.content.decode().lstrip().startswith('<div id="human-mapping">')
    assert "Mapping saved." in htmx.content.decode()


def test_a_bad_file_on_the_page_is_a_422_with_the_reason_at_the_form():
    user = create_user()
    survey, _questions = make_survey(user)
    client = page_client(user, "pl")
    resp = client.post(f"/surveys/{survey.id}/human/upload/", {"file": SimpleUploadedFile("x.csv", b"")})
    assert resp.status_code == 422 and "Plik jest pusty" in visible_text(resp.content.decode())
    resp = client.post(f"/surveys/{survey.id}/human/upload/", {"file": SimpleUploadedFile("x.docx", b"abc")})
    assert resp.status_code == 422 and "CSV, XLSX" in resp.content.decode()


def test_another_users_human_sample_pages_are_404():
    user = create_user()
    survey, _questions = make_survey(user)
    sample = HumanSample.objects.create(survey=survey, filename="a.csv", file_format="csv", columns=[], data=[])
    stranger = page_client(create_user())
    assert stranger.get(f"/surveys/{survey.id}/human/upload/").status_code == 404
    assert stranger.post(f"/surveys/{survey.id}/human/upload/").status_code == 404
    assert stranger.get(f"/surveys/{survey.id}/human/{sample.id}/").status_code == 404
    assert stranger.post(f"/surveys/{survey.id}/human/{sample.id}/").status_code == 404
    assert stranger.post(f"/surveys/{survey.id}/human/{sample.id}/delete/").status_code == 404
    assert HumanSample.objects.filter(pk=sample.pk).exists()
    owner_client = page_client(user)
    assert owner_client.post(f"/surveys/{survey.id}/human/{sample.id}/delete/").status_code == 302
    assert not HumanSample.objects.exists()


def test_the_survey_and_sample_pages_read_a_constant_number_of_queries():
    user = create_user()
    survey, questions = make_survey(user)
    client = page_client(user)
    client.post(f"/surveys/{survey.id}/human/upload/", {"file": SimpleUploadedFile("l.csv", csv_bytes(HUMAN))})
    sample = HumanSample.objects.get()
    sample.status = "mapped"
    sample.save()

    def count(url: str) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    urls = [f"/surveys/{survey.id}/", f"/surveys/{survey.id}/human/{sample.id}/"]
    before = [count(url) for url in urls]
    extra = [create_persona(project=survey.project, gender="male") for _ in range(12)]
    Answer.objects.bulk_create(
        Answer(survey=survey, question=questions[2], persona=p, value=4, method="direct") for p in extra
    )
    for i in range(3):
        HumanSample.objects.create(survey=survey, filename=f"{i}.csv", file_format="csv", columns=[], data=[])
    assert [count(url) for url in urls] == before


def test_staff_see_human_samples_in_the_admin():
    survey, _questions = make_survey()
    sample = HumanSample.objects.create(
        survey=survey, filename="panel.sav", file_format="sav", row_count=3, columns=[], data=[["1", "2", "1"]]
    )
    client = page_client(create_user(is_staff=True, is_superuser=True))
    listing = client.get("/admin/surveys/humansample/")
    assert listing.status_code == 200 and "panel.sav" in listing.content.decode()
    assert client.get(f"/admin/surveys/humansample/{sample.pk}/change/").status_code == 200


def test_a_qualtrics_export_uses_question_texts_as_labels_and_a_nul_byte_deep_in_a_csv_is_dropped():
    user, client = owner()
    survey, questions = make_survey(user)
    rows = [
        ("Q1", "Q7"),
        ("Czy kupiłbyś ten produkt?", "Komentarz"),
        ('{"ImportId":"QID1"}', '{"ImportId":"QID7_TEXT"}'),
        ("Tak", "x" * 9000 + "\x00y"),
        ("Nie", ""),
    ]
    resp = upload(client, survey, "qualtrics.csv", csv_bytes(rows, delimiter=",", encoding="utf-8"))
    assert resp.status_code == 201, resp.content
    sample = resp.json()
    assert sample["row_count"] == 2
    assert [(c["name"], c["label"]) for c in sample["columns"]] == [
        ("Q1", "Czy kupiłbyś ten produkt?"),
        ("Q7", "Komentarz"),
    ]
    assert sample["mapping"]["questions"][0]["values"] == {"Tak": "o1", "Nie": "o2"}
    stored = HumanSample.objects.get().data[1][0]
    assert "\x00" not in stored and len(stored) == 500


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)


@given(
    body=st.fixed_dictionaries(
        {},
        optional={
            "questions": st.lists(
                st.fixed_dictionaries(
                    {"question": st.sampled_from(["Q0", "Q1", "Q4", "Q5", "zzz"]), "column": st.text(max_size=12)},
                    optional={"values": st.dictionaries(st.text(max_size=10), st.integers() | st.text(max_size=5))},
                ),
                max_size=3,
            ),
            "segment": JSON,
        },
    )
)
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_any_mapping_body_is_saved_or_refused_with_a_4xx_never_a_500(fuzz_world, body):
    client, survey, questions, sample_id = fuzz_world
    for item in body.get("questions", []):
        if item["question"].startswith("Q"):
            item["question"] = str(questions[int(item["question"][1:])].id)
    resp = put_mapping(client, survey, sample_id, body)
    assert resp.status_code in (200, 422), resp.content
    assert client.get(f"/api/v1/surveys/{survey.id}/human-samples/{sample_id}/comparison").status_code == 200


@given(name=st.sampled_from(["x.csv", "x.xlsx", "x.sav"]), data=st.binary(min_size=0, max_size=300))
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
def test_random_bytes_under_any_supported_name_are_read_or_refused_with_a_422(fuzz_world, name, data):
    client, survey, _questions, _sample_id = fuzz_world
    resp = upload(client, survey, name, data)
    assert resp.status_code in (201, 422), resp.content


@pytest.fixture
def fuzz_world(db):
    user, client = owner()
    survey, questions = make_survey(user)
    sample_id = upload(client, survey, "ludzie.csv", csv_bytes(HUMAN)).json()["id"]
    return client, survey, questions, sample_id
