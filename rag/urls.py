"""Adresy URL bazy wiedzy (przestrzeń nazw `rag`): dokumenty projektu, przesyłanie, usuwanie i wyszukiwanie."""

from django.urls import path

from rag import ask_views, views

app_name = "rag"

urlpatterns = [
    path("projects/<uuid:project_id>/knowledge/", views.knowledge, name="knowledge"),
    path("projects/<uuid:project_id>/knowledge/upload/", views.upload, name="upload"),
    path("documents/<uuid:document_id>/delete/", views.delete, name="delete"),
    path("projects/<uuid:project_id>/knowledge/ask/", ask_views.ask_view, name="ask"),
    path("projects/<uuid:project_id>/knowledge/graph/", ask_views.extract_graph, name="extract_graph"),
    path("documents/<uuid:document_id>/passages/<int:chunk_id>/", views.passage, name="passage"),
]
