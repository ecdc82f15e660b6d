"""JSON lines on stdout, one object per record, tagged with the service."""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any

# Attributes every LogRecord has; anything else was passed through ``extra``
# and belongs in the JSON object.
_STANDARD_ATTRS = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}

# A token that slipped into a message must not reach a log file, so anything
# shaped like a JWT is masked whatever logged it.
_JWT = re.compile(r"eyJ[\w-]{4,}\.[\w-]{4,}\.[\w-]*")


def redact(text: str) -> str:
    """``text`` with anything shaped like a bearer token masked."""

    return _JWT.sub("[redacted]", text)


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON object with the service's name."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "service": self.service,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }

        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                entry[key] = value

        if record.exc_info:
            entry["traceback"] = redact(self.formatException(record.exc_info))

        return json.dumps(entry, default=str)


def configure(service: str, level: str = "INFO") -> None:
    """Sends every logger's records to stdout as JSON; called once per process."""

    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
