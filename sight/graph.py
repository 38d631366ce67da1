"""Graf pojęć (Neo4j w produkcji, FalkorDB wbudowany) — szkielet; pełna implementacja w toku."""

from __future__ import annotations

from typing import Any


class GraphUnavailable(Exception):
    """Serwer grafu nie odpowiada; strony grafu mówią o tym, reszta aplikacji działa."""


def health() -> dict[str, Any]:
    """Stan połączenia z grafem."""
    return {"ok": False, "error": "not implemented"}
