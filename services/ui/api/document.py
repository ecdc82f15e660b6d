"""The API's OpenAPI document, and request bodies checked against its schemas.

Validating with the document's own schemas means the code cannot accept
what the document refuses, nor the reverse.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs
import yaml
from jsonschema import Draft7Validator
from jsonschema.exceptions import ValidationError

PATH = Path(__file__).resolve().parent / "openapi.yaml"

_SCHEMAS = "#/components/schemas/"


class RequestError(ValueError):
    """A request that does not match the document; the message names where."""


@cache
def document() -> dict[str, Any]:
    """The OpenAPI document as read from ``openapi.yaml``."""

    loaded: dict[str, Any] = yaml.safe_load(PATH.read_text())
    return loaded


@cache
def document_json() -> str:
    """The document as JSON, as served."""

    return json.dumps(document(), indent=2)


def schema(name: str) -> dict[str, Any]:
    """The component schema ``name`` with every reference replaced by its target.

    The document's schemas refer to each other without cycles, so the result
    is a plain JSON Schema that needs no resolver.
    """

    components = document()["components"]["schemas"]

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")

            if isinstance(ref, str) and ref.startswith(_SCHEMAS):
                return inline(components[ref.removeprefix(_SCHEMAS)])

            return {key: inline(value) for key, value in node.items()}

        if isinstance(node, list):
            return [inline(value) for value in node]

        return node

    inlined: dict[str, Any] = inline(components[name])
    return inlined


@cache
def _validator(name: str) -> Draft7Validator:
    return Draft7Validator(schema(name))


@cache
def _quick(name: str) -> jsonschema_rs.Draft7Validator:
    # Formats are annotations here, as in the reference validator.
    return jsonschema_rs.Draft7Validator(schema(name), validate_formats=False)


def check(name: str, value: Any, where: str) -> None:
    """Raises RequestError when ``value`` does not match schema ``name``.

    ``name`` is one of the document's component schemas; ``where`` is how the
    message names ``value`` (``body``, ``extension``). Only the first problem
    found is named, the one nearest the top of the value.

    A compiled validator answers first: PM's list of 5,000 users takes it a
    few milliseconds where the reference validator takes about a second.
    The reference validator still has the last word and words the message.
    """

    if _quick(name).is_valid(value):
        return

    errors = sorted(
        _validator(name).iter_errors(value), key=lambda e: (len(e.path), list(e.path))
    )

    if errors:
        raise RequestError(describe(errors[0], where))


def describe(error: ValidationError, where: str) -> str:
    """A validation error as one sentence naming the field it is about."""

    location = where + _pointer(error.absolute_path)

    if error.validator == "additionalProperties":
        return f"{location}: {error.message}"

    if error.validator == "required":
        return f"{location}: {error.message}"

    if error.validator == "type":
        expected = error.validator_value
        return (
            f"{location} must be of type {expected}, not {_json_type(error.instance)}"
        )

    if error.validator == "pattern":
        shown = _shown(error.instance)
        return f"{location} {shown} does not match {error.validator_value}"

    return f"{location}: {error.message}"


def _pointer(path: Iterable[str | int]) -> str:
    parts = []

    for step in path:
        parts.append(f"[{step}]" if isinstance(step, int) else f".{step}")

    return "".join(parts)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"

    if isinstance(value, bool):
        return "boolean"

    if isinstance(value, int | float):
        return "number"

    if isinstance(value, str):
        return "string"

    if isinstance(value, list):
        return "array"

    return "object"


def _shown(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 40 else f"{text[:37]}..."
