"""Adresy websocketów wszystkich aplikacji."""

from django.urls import path

from focus_groups.consumers import FocusGroupConsumer
from sight.consumers import JobConsumer

websocket_urlpatterns = [
    path("ws/jobs/<uuid:job_id>/", JobConsumer.as_asgi()),
    path("ws/focus-groups/<uuid:focus_group_id>/", FocusGroupConsumer.as_asgi()),
]
