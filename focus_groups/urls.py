"""Adresy URL grup fokusowych (przestrzeń nazw `focus_groups`): lista w projekcie, konfiguracja, przebieg, wyniki,
eksporty.
"""

from django.urls import path

from focus_groups import insights_views, views

app_name = "focus_groups"

urlpatterns = [
    path("projects/<uuid:project_id>/focus-groups/", views.focus_group_list, name="list"),
    path("projects/<uuid:project_id>/focus-groups/new/", views.focus_group_create, name="create"),
    path("focus-groups/<uuid:focus_group_id>/", views.focus_group_detail, name="detail"),
    path("focus-groups/<uuid:focus_group_id>/edit/", views.focus_group_edit, name="edit"),
    path("focus-groups/<uuid:focus_group_id>/delete/", views.focus_group_delete, name="delete"),
    path("focus-groups/<uuid:focus_group_id>/run/", views.focus_group_run, name="run"),
    path("focus-groups/<uuid:focus_group_id>/resume/", views.focus_group_run, {"resume": True}, name="resume"),
    path("focus-groups/<uuid:focus_group_id>/pause/", views.focus_group_control, {"control": "pause"}, name="pause"),
    path("focus-groups/<uuid:focus_group_id>/stop/", views.focus_group_control, {"control": "stop"}, name="stop"),
    path("focus-groups/<uuid:focus_group_id>/interject/", views.focus_group_interject, name="interject"),
    path("focus-groups/<uuid:focus_group_id>/summary/", views.focus_group_summary, name="summary"),
    path("focus-groups/<uuid:focus_group_id>/export/<str:fmt>/", views.focus_group_export, name="export"),
    path("focus-groups/<uuid:focus_group_id>/insights/", insights_views.focus_group_insights, name="insights"),
    path("focus-groups/<uuid:focus_group_id>/insights/extract/", insights_views.focus_group_extract, name="extract"),
    path("focus-groups/<uuid:focus_group_id>/insights/graph/", insights_views.focus_group_graph, name="graph"),
    path(
        "focus-groups/<uuid:focus_group_id>/insights/graph/export/<str:fmt>/",
        insights_views.focus_group_graph_export,
        name="graph_export",
    ),
    path("focus-groups/<uuid:focus_group_id>/compare/", insights_views.focus_group_compare, name="compare"),
]
