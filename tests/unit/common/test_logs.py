import json
import logging
import sys

from services.common.logs import JsonFormatter, redact

JWT = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ1c2VyIn0.c2lnbmF0dXJlLXZhbHVl"


def record(message: str, *args: object, **extra: object) -> logging.LogRecord:
    rec = logging.LogRecord(
        "test.logger", logging.INFO, __file__, 1, message, args, None
    )

    for key, value in extra.items():
        setattr(rec, key, value)

    return rec


def test_a_record_is_one_json_object_with_the_service() -> None:
    line = JsonFormatter("registration").format(record("Linked to %s", "acme"))
    entry = json.loads(line)

    assert entry["service"] == "registration"
    assert entry["level"] == "INFO"
    assert entry["message"] == "Linked to acme"
    assert entry["logger"] == "test.logger"


def test_extra_fields_are_kept() -> None:
    entry = json.loads(JsonFormatter("tunnel").format(record("x", stream="s-1")))

    assert entry["stream"] == "s-1"


def test_tokens_never_reach_the_log() -> None:
    line = JsonFormatter("ui").format(record("Bearer %s", JWT))

    assert JWT not in line
    assert "[redacted]" in redact(f"token={JWT}")


def test_a_traceback_is_included() -> None:
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        rec = record("failed")
        rec.exc_info = sys.exc_info()

    entry = json.loads(JsonFormatter("ui").format(rec))

    assert "RuntimeError: boom" in entry["traceback"]
