"""Polska odmiana: zapytanie innymi formami tych samych słów znajduje swój fragment w pierwszej piątce (także samym
BM25, więc to zasługa lematów, nie wektorów).
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from rag import ingest, retrieval
from sight import jobs
from tests.factories import create_project

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fake_llm")]

# (fragment, zapytanie tymi samymi słowami w innych formach)
PAIRS = [
    ("Ceny mieszkań w dużych miastach rosną szybciej niż płace.", "cena mieszkania w dużym mieście"),
    ("Rolnicy narzekają na drogie nawozy i paliwo do ciągników.", "rolnik narzeka na drogi nawóz"),
    ("Seniorzy chętnie płacą telefonem w małych sklepach osiedlowych.", "senior płaci telefonami w sklepie"),
    ("Studenci dojeżdżają na uczelnię rowerami miejskimi.", "student dojeżdża rowerem miejskim"),
    ("Matki małych dzieci kupują pieluchy w aptekach internetowych.", "matka kupuje pieluchę w aptece"),
    ("Kierowcy ciężarówek skarżą się na brak parkingów przy autostradach.", "kierowca ciężarówki parking"),
    ("Nauczyciele w szkołach podstawowych oceniają nowe podręczniki.", "nauczycielka ocenia podręcznik"),
    ("Właściciele psów szukają tanich weterynarzy w okolicy.", "właściciel psa szuka weterynarza"),
    ("Mieszkańcy wsi rzadko korzystają z transportu publicznego.", "mieszkaniec wsi korzysta z transportu"),
    ("Młodzi rodzice oszczędzają na wakacjach za granicą.", "młody rodzic oszczędza na wakacje"),
    ("Pielęgniarki pracują na nocnych dyżurach w szpitalach powiatowych.", "pielęgniarka pracuje w szpitalu"),
    ("Programiści wybierają pracę zdalną z domów pod miastem.", "programista wybiera zdalną pracę"),
    ("Emeryci oglądają seriale w telewizji publicznej.", "emeryt ogląda serial"),
    ("Klienci banków boją się oszustw przez wiadomości tekstowe.", "klient banku boi się oszustwa"),
    ("Sprzedawczynie w piekarniach zaczynają pracę przed świtem.", "sprzedawczyni w piekarni"),
    ("Turyści z Niemiec odwiedzają zamki na Mazurach.", "turysta odwiedza zamek"),
    ("Lekarze rodzinni przyjmują pacjentów przez teleporady.", "lekarz rodzinny przyjmuje pacjenta"),
    ("Kobiety w ciąży czytają etykiety kosmetyków.", "kobieta czyta etykietę kosmetyku"),
    ("Gracze komputerowi kupują nowe karty graficzne na raty.", "gracz kupuje kartę graficzną"),
    ("Działkowicze sadzą pomidory i ogórki w szklarniach.", "działkowiec sadzi pomidora w szklarni"),
]


def test_inflected_polish_queries_find_their_passage_in_the_top_five(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    project = create_project()
    markdown = "\n\n".join(f"# Fragment {i}\n\n{text}" for i, (text, _) in enumerate(PAIRS))
    document, _ = ingest.accept_upload(project, SimpleUploadedFile("zbior.md", markdown.encode()), user=project.owner)
    jobs.execute(str(document.job_id))
    document.refresh_from_db()
    assert document.chunk_count == len(PAIRS)
    for mode in ("hybrid", "lexical"):
        missed = [
            query
            for text, query in PAIRS
            if text not in [h.text.split("\n\n", 1)[-1] for h in retrieval.search(project, query, k=5, mode=mode)]
        ]
        assert (mode, missed) == (mode, [])


def test_a_subset_of_the_inflection_benchmark_set_is_found_by_the_hybrid_search(settings, tmp_path):
    """Co czwarta para zbioru benchmarku `bench/data/polish_inflection.json` (przypadki, liczba mnoga, czasowniki)."""
    from bench.rag_polish import load_pairs, markdown

    settings.MEDIA_ROOT = tmp_path
    pairs = load_pairs()[::4]
    project = create_project()
    upload = SimpleUploadedFile("odmiana.md", markdown(pairs).encode())
    document, _ = ingest.accept_upload(project, upload, user=project.owner)
    jobs.execute(str(document.job_id))
    missed = [
        query
        for text, query in pairs
        if text not in [h.text.split("\n\n", 1)[-1] for h in retrieval.search(project, query, k=5)]
    ]
    assert (len(pairs), missed) == (15, [])
