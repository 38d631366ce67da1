"""Adresy URL: panel admina, API, przełącznik języka, strony aplikacji."""

from django.contrib import admin
from django.urls import include, path

from sight.api import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("django-rq/", include("django_rq.urls")),
]
