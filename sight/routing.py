"""Adresy websocketów wszystkich aplikacji."""

from django.urls import path

from sight.consumers import JobConsumer

websocket_urlpatterns = [
    path("ws/jobs/<uuid:job_id>/", JobConsumer.as_asgi()),
]
