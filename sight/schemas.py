"""Wspólne podstawy schematów wejścia API: schemat OpenAPI mówi dokładnie to, co serwer sprawdza."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from ninja import Schema
from pydantic import BeforeValidator, ConfigDict, Field, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema


class InputSchema(Schema):
    """Ciało żądania (albo jego część): tylko obiekt JSON i tylko znane pola (`additionalProperties: false`)."""

    # ninja przy `extra="forbid"` waliduje najpierw surowe dane, więc lista albo napis zamiast obiektu to 422.
    model_config = ConfigDict(extra="forbid")


def schema_bound(**values: Callable[[], Any]) -> Callable[[dict[str, Any]], None]:
    """`json_schema_extra` z wartościami liczonymi przy budowie schematu (limit z features.yaml), nie przy imporcie."""

    def extra(schema: dict[str, Any]) -> None:
        schema.update({key: value() for key, value in values.items()})

    return extra


@dataclass(frozen=True)
class KeysMatching:
    """Znacznik słownika o kluczach ze wzorcem: w schemacie JSON wzorzec obowiązuje każdy klucz (`propertyNames`), a nie
    tylko wybrane (`patternProperties` pydantic zostawiałby inne klucze bez ograniczeń).
    """

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        ((pattern, value),) = json_schema.pop("patternProperties").items()
        json_schema["propertyNames"] = {**json_schema.get("propertyNames", {}), "pattern": pattern}
        json_schema["additionalProperties"] = value
        return json_schema


def _json_integer(value: Any) -> Any:
    # Liczba całkowita JSON: 20 i 20.0 tak (JSON Schema uznaje obie), napis "20" i true już nie.
    if isinstance(value, str | bool):
        raise ValueError("Input should be a valid integer")
    return value


def json_int(**constraints: Any) -> Any:
    """Typ liczby całkowitej JSON z granicami (granice przed walidatorem, więc trafiają do schematu jako min/max)."""
    return Annotated[int, Field(**constraints), BeforeValidator(_json_integer)]


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


def omittable(**constraints: Any) -> Any:
    """Pole PATCH, które można pominąć, ale nie wyzerować: w schemacie bez `null` i bez wartości domyślnej."""
    return Field(None, json_schema_extra=_no_default, **constraints)
