"""The relay wire protocol: frames, their encoding and their checks.

One TLS connection from the daemon to the relay carries every tunnel. It is
a sequence of frames, each a 10-byte header (kind, flags, stream id, payload
length, big-endian) and a payload. Stream 0 is the connection itself
(hello, welcome, tunnel list, heartbeats, goodbye); every other stream is
one visitor connection, opened by the relay only.

Nothing here does I/O, so every rule is tested, and fuzzed, without a
socket: a frame that breaks one raises ProtocolError, and the connection
that carried it is closed.
"""

from __future__ import annotations

import enum
import json
import struct
from dataclasses import dataclass
from typing import Any

VERSION = 1

HEADER = struct.Struct("!BBII")
HEADER_SIZE = HEADER.size

# Large enough that a bulk transfer costs few frames, small enough that one
# stream cannot hold the shared connection for long.
MAX_DATA = 256 * 1024
MAX_CONTROL = 64 * 1024
MAX_REASON = 1024
MAX_STREAM_ID = 2**31 - 1

# Credit a receiver grants each stream up front; a sender never has more than
# this in flight per stream, which bounds what either side buffers for it.
INITIAL_WINDOW = 2 * 1024 * 1024
MAX_WINDOW = 2**31 - 1

# A received payload: a large one arrives in a buffer of its own, never copied.
Payload = bytes | bytearray


class ProtocolError(Exception):
    """A peer broke the protocol; the connection must be closed."""


class Kind(enum.IntEnum):
    """What a frame is."""

    HELLO = 1
    WELCOME = 2
    TUNNELS = 3
    OPEN = 4
    DATA = 5
    WINDOW = 6
    FIN = 7
    RESET = 8
    PING = 9
    PONG = 10
    GOAWAY = 11
    TOKEN = 12


# Frames about the connection travel on stream 0, the rest on a stream.
CONNECTION_KINDS = frozenset(
    {
        Kind.HELLO,
        Kind.WELCOME,
        Kind.TUNNELS,
        Kind.PING,
        Kind.PONG,
        Kind.GOAWAY,
        Kind.TOKEN,
    }
)
JSON_KINDS = frozenset({Kind.HELLO, Kind.WELCOME, Kind.TUNNELS, Kind.OPEN, Kind.TOKEN})
TEXT_KINDS = frozenset({Kind.RESET, Kind.GOAWAY})


@dataclass(frozen=True)
class Header:
    """A decoded frame header."""

    kind: Kind
    stream_id: int
    length: int


@dataclass(frozen=True)
class Frame:
    """One frame: its kind, its stream and its payload."""

    kind: Kind
    stream_id: int = 0
    payload: Payload = b""

    def json(self) -> dict[str, Any]:
        """The payload of a JSON frame as an object."""

        return decode_json(self.payload)

    def text(self) -> str:
        """The payload of a RESET or GOAWAY as text."""

        return self.payload.decode("utf-8", errors="replace")

    def increment(self) -> int:
        """The credit a WINDOW frame grants."""

        return int.from_bytes(self.payload, "big")


def max_payload(kind: Kind) -> int:
    """The largest payload a frame of ``kind`` may carry."""

    if kind is Kind.DATA:
        return MAX_DATA

    if kind in JSON_KINDS:
        return MAX_CONTROL

    if kind in TEXT_KINDS:
        return MAX_REASON

    if kind is Kind.WINDOW:
        return 4

    if kind in (Kind.PING, Kind.PONG):
        return 8

    return 0


def decode_header(data: bytes | bytearray | memoryview) -> Header:
    """The header in the first HEADER_SIZE bytes of ``data``."""

    if len(data) < HEADER_SIZE:
        raise ProtocolError("truncated frame header")

    raw_kind, flags, stream_id, length = HEADER.unpack_from(data)

    try:
        kind = Kind(raw_kind)
    except ValueError:
        raise ProtocolError(f"unknown frame kind {raw_kind}") from None

    if flags:
        raise ProtocolError(f"{kind.name} frame with unknown flags {flags:#x}")

    if stream_id > MAX_STREAM_ID:
        raise ProtocolError(f"{kind.name} frame on stream {stream_id}, out of range")

    if (kind in CONNECTION_KINDS) != (stream_id == 0):
        raise ProtocolError(f"{kind.name} frame on the wrong stream {stream_id}")

    if length > max_payload(kind):
        raise ProtocolError(f"{kind.name} frame of {length} bytes is too long")

    return Header(kind, stream_id, length)


def check_payload(header: Header, payload: Payload) -> Frame:
    """The frame of ``header`` with ``payload``, once its payload is valid."""

    kind = header.kind

    if kind is Kind.DATA and not payload:
        raise ProtocolError("empty DATA frame")

    if kind is Kind.WINDOW:
        if len(payload) != 4:
            raise ProtocolError("WINDOW frame without a 4-byte increment")

        if int.from_bytes(payload, "big") == 0:
            raise ProtocolError("WINDOW frame granting nothing")

    if kind in (Kind.PING, Kind.PONG) and len(payload) != 8:
        raise ProtocolError(f"{kind.name} frame without an 8-byte token")

    if kind in JSON_KINDS:
        decode_json(payload)

    return Frame(kind, header.stream_id, payload)


def encode(frame: Frame) -> bytes:
    """The bytes of ``frame`` on the wire."""

    if len(frame.payload) > max_payload(frame.kind):
        raise ValueError(f"{frame.kind.name} payload of {len(frame.payload)} bytes")

    header = HEADER.pack(frame.kind, 0, frame.stream_id, len(frame.payload))
    return header + frame.payload


def encode_header(kind: Kind, stream_id: int, length: int) -> bytes:
    """Just the header, for a DATA payload sent without copying it."""

    return HEADER.pack(kind, 0, stream_id, length)


def control(kind: Kind, body: dict[str, Any], stream_id: int = 0) -> Frame:
    """A JSON frame carrying ``body``."""

    return Frame(kind, stream_id, json.dumps(body, separators=(",", ":")).encode())


def text_frame(kind: Kind, reason: str, stream_id: int = 0) -> Frame:
    """A RESET or GOAWAY frame with ``reason``, cut to fit."""

    data = reason.encode("utf-8")[:MAX_REASON]
    return Frame(kind, stream_id, data.decode("utf-8", errors="ignore").encode())


def window(stream_id: int, increment: int) -> Frame:
    """A WINDOW frame granting ``increment`` more bytes on a stream."""

    return Frame(Kind.WINDOW, stream_id, increment.to_bytes(4, "big"))


def decode_json(payload: Payload) -> dict[str, Any]:
    """``payload`` as a JSON object."""

    try:
        body = json.loads(payload)
    except (UnicodeDecodeError, ValueError):
        raise ProtocolError("a control frame that is not JSON") from None

    if not isinstance(body, dict):
        raise ProtocolError("a control frame that is not a JSON object")

    return body


class FrameBuffer:
    """Splits a byte stream into checked frames, however it is cut."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._header: Header | None = None

    def feed(self, data: bytes) -> list[Frame]:
        """The frames completed by ``data``; raises ProtocolError on a bad one."""

        self._buffer += data
        frames: list[Frame] = []

        while True:
            if self._header is None:
                if len(self._buffer) < HEADER_SIZE:
                    return frames

                self._header = decode_header(bytes(self._buffer[:HEADER_SIZE]))
                del self._buffer[:HEADER_SIZE]

            if len(self._buffer) < self._header.length:
                return frames

            payload = bytes(self._buffer[: self._header.length])
            del self._buffer[: self._header.length]
            frames.append(check_payload(self._header, payload))
            self._header = None
