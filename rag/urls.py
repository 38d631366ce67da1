"""Adresy URL bazy wiedzy (przestrzeń nazw `rag`): dokumenty projektu, przesyłanie, usuwanie i wyszukiwanie."""

from django.urls import path

from rag import views

app_name = "rag"

urlpatterns = [
    path("projects/<uuid:project_id>/knowledge/", views.knowledge, name="knowledge"),
    path("projects/<uuid:project_id>/knowledge/upload/", views.upload, name="upload"),
    path("documents/<uuid:document_id>/delete/", views.delete, name="delete"),
    path("projects/<uuid:project_id>/knowledge/ask/", views.ask_view, name="ask"),
    path("projects/<uuid:project_id>/knowledge/graph/", views.extract_graph, name="extract_graph"),
    path("documents/<uuid:document_id>/passages/<int:chunk_id>/", views.passage, name="passage"),
    path("projects/<uuid:project_id>/knowledge/reembed/", views.reembed, name="reembed"),
]
