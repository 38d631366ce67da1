"""Adresy URL person (przestrzeń nazw `personas`): panel projektu i pojedyncza persona."""

from django.urls import path

from personas import views

app_name = "personas"

urlpatterns = [
    path("projects/<uuid:project_id>/personas/", views.persona_list, name="list"),
    path("projects/<uuid:project_id>/personas/panel/", views.panel, name="panel"),
    path("projects/<uuid:project_id>/personas/generate/", views.generate, name="generate"),
    path("projects/<uuid:project_id>/personas/bulk-delete/", views.bulk_delete, name="bulk_delete"),
    path("projects/<uuid:project_id>/personas/bulk-restore/", views.bulk_restore, name="bulk_restore"),
    path("projects/<uuid:project_id>/personas/export.<str:fmt>", views.export, name="export"),
    path("personas/<uuid:persona_id>/", views.persona_detail, name="detail"),
    path("personas/<uuid:persona_id>/needs/", views.needs, name="needs"),
    path("personas/<uuid:persona_id>/delete/", views.delete, name="delete"),
    path("personas/<uuid:persona_id>/restore/", views.restore, name="restore"),
]
