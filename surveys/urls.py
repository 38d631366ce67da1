"""Adresy URL ankiet (przestrzeń nazw `surveys`): lista, nowa z szablonu, ankieta, edycja, badanie, wyniki."""

from django.urls import path

from surveys import human_views, views

app_name = "surveys"

urlpatterns = [
    path("projects/<uuid:project_id>/surveys/", views.survey_list, name="list"),
    path("projects/<uuid:project_id>/surveys/new/", views.survey_create, name="create"),
    path("surveys/<uuid:survey_id>/", views.survey_detail, name="detail"),
    path("surveys/<uuid:survey_id>/edit/", views.survey_edit, name="edit"),
    path("surveys/<uuid:survey_id>/copy/", views.survey_copy, name="copy"),
    path("surveys/<uuid:survey_id>/run/", views.survey_run, name="run"),
    path("surveys/<uuid:survey_id>/results/", views.survey_results, name="results"),
    path("surveys/<uuid:survey_id>/questions/<uuid:question_id>/themes/", views.question_themes, name="themes"),
    path("surveys/<uuid:survey_id>/answers/", views.survey_answers, name="answers"),
    path("surveys/<uuid:survey_id>/human/upload/", human_views.human_upload, name="human_upload"),
    path("surveys/<uuid:survey_id>/human/<uuid:sample_id>/", human_views.human_sample, name="human_sample"),
    path("surveys/<uuid:survey_id>/human/<uuid:sample_id>/delete/", human_views.human_delete, name="human_delete"),
]
