"""Typed settings read from environment variables.

Each program declares its settings as a frozen dataclass whose fields carry
the variable name, default and help text in their metadata. ``load`` reads
them all in one place, so a bad value stops start-up with a message that
names the variable, and the README table is generated from the same source.
"""

from __future__ import annotations

import dataclasses
import os
import typing
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


class ConfigError(ValueError):
    """A configuration variable holds a value that cannot be used."""


def setting(env: str, default: str, help: str) -> Any:
    """Declares one dataclass field read from the variable ``env``."""

    return dataclasses.field(metadata={"env": env, "default": default, "help": help})


def _parse_bool(raw: str) -> bool:
    value = raw.strip().lower()

    if value in {"1", "true", "yes", "on"}:
        return True

    if value in {"0", "false", "no", "off"}:
        return False

    raise ValueError("expected true or false")


def _parse_port(raw: str) -> int:
    port = int(raw)

    if not 0 <= port <= 65535:
        raise ValueError("expected a port number from 0 to 65535")

    return port


def _parse_positive_float(raw: str) -> float:
    value = float(raw)

    if value <= 0:
        raise ValueError("expected a positive number")

    return value


def _parse_count(raw: str) -> int:
    value = int(raw)

    if value < 1:
        raise ValueError("expected a whole number of at least 1")

    return value


def _parse_log_level(raw: str) -> str:
    level = raw.strip().upper()

    if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
        raise ValueError("expected DEBUG, INFO, WARNING, ERROR or CRITICAL")

    return level


def _parse_address(raw: str) -> str:
    host, sep, port = raw.rpartition(":")

    if not sep or not host:
        raise ValueError("expected HOST:PORT")

    _parse_port(port)
    return raw


class LogLevel(str):
    """A logging level name."""


class Address(str):
    """A HOST:PORT pair."""


class Port(int):
    """A TCP port number, 0 to 65535."""


class Seconds(float):
    """A positive number of seconds."""


class Count(int):
    """A whole number of at least 1: workers, writers, a limit."""


_PARSERS: dict[Any, Callable[[str], Any]] = {
    str: str,
    int: int,
    bool: _parse_bool,
    Path: lambda raw: Path(raw).expanduser(),
    Port: _parse_port,
    Seconds: _parse_positive_float,
    Count: _parse_count,
    LogLevel: _parse_log_level,
    Address: _parse_address,
}


def fields_of(cls: type) -> Iterator[dataclasses.Field[Any]]:
    """The settings of a settings class, in declaration order."""

    for field in dataclasses.fields(cls):
        if "env" in field.metadata:
            yield field


def load(cls: type[T], environ: Mapping[str, str] | None = None) -> T:
    """Builds ``cls`` from ``environ`` (the process environment by default)."""

    environ = os.environ if environ is None else environ
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}

    for field in fields_of(cls):
        env = field.metadata["env"]
        raw = environ.get(env, field.metadata["default"])
        parse = _PARSERS[hints[field.name]]

        try:
            values[field.name] = parse(raw)
        except ValueError as exc:
            raise ConfigError(f"{env}={raw!r} is not valid: {exc}") from None

    return cls(**values)


def markdown_table(*classes: type) -> str:
    """The README's table of every variable with its default."""

    lines = ["| Variable | Default | Meaning |", "| --- | --- | --- |"]
    seen: set[str] = set()

    for cls in classes:
        for field in fields_of(cls):
            env = field.metadata["env"]

            if env in seen:
                continue

            seen.add(env)
            default = field.metadata["default"] or "(empty)"
            lines.append(f"| `{env}` | `{default}` | {field.metadata['help']} |")

    return "\n".join(lines) + "\n"
