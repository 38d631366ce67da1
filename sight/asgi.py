"""ASGI: HTTP (Django) i websockety (Channels) w jednym procesie daphne."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sight.settings")
django_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402 - po inicjalizacji Django

from sight.auth import WebsocketAuth  # noqa: E402
from sight.routing import websocket_urlpatterns  # noqa: E402
from sight.worker import warm_up_in_background  # noqa: E402

application = ProtocolTypeRouter({"http": django_app, "websocket": WebsocketAuth(URLRouter(websocket_urlpatterns))})

# Słowniki lematyzatora itp. w tle: pierwsze wyszukiwanie po starcie serwera nie płaci za ich wczytanie.
warm_up_in_background()
