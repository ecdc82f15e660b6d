"""Frames: encoding, decoding and every rule a frame must keep."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.tunnel import wire
from services.tunnel.wire import Frame, FrameBuffer, Kind, ProtocolError

FRAMES = [
    Frame(Kind.DATA, 7, b"x" * 1000),
    wire.window(7, 65536),
    Frame(Kind.FIN, 7),
    wire.text_frame(Kind.RESET, "refused", 7),
    Frame(Kind.PING, 0, b"12345678"),
    Frame(Kind.PONG, 0, b"12345678"),
    wire.control(Kind.TUNNELS, {"tunnels": []}),
    wire.control(Kind.OPEN, {"component": "a", "name": "b", "visitor": {}}, 3),
    wire.text_frame(Kind.GOAWAY, "bye"),
]


@pytest.mark.parametrize("frame", FRAMES, ids=lambda f: f.kind.name)
def test_a_frame_decodes_to_itself(frame: Frame) -> None:
    assert FrameBuffer().feed(wire.encode(frame)) == [frame]


def test_frames_decode_however_the_bytes_are_cut() -> None:
    data = b"".join(wire.encode(f) for f in FRAMES)
    buffer = FrameBuffer()
    decoded = [frame for byte in data for frame in buffer.feed(bytes([byte]))]

    assert decoded == FRAMES


def header(kind: int, stream: int, length: int, flags: int = 0) -> bytes:
    return wire.HEADER.pack(kind, flags, stream, length)


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (header(99, 0, 0), "unknown frame kind"),
        (header(Kind.DATA, 1, 1, flags=1) + b"x", "unknown flags"),
        (header(Kind.DATA, 0, 1) + b"x", "wrong stream"),
        (header(Kind.PING, 5, 8) + b"12345678", "wrong stream"),
        (header(Kind.DATA, 1, wire.MAX_DATA + 1), "too long"),
        (header(Kind.DATA, 2**31, 1) + b"x", "out of range"),
        (header(Kind.DATA, 1, 0), "empty DATA"),
        (header(Kind.WINDOW, 1, 4) + b"\0\0\0\0", "granting nothing"),
        (header(Kind.WINDOW, 1, 2) + b"\0\1", "4-byte"),
        (header(Kind.PING, 0, 3) + b"abc", "8-byte"),
        (header(Kind.TUNNELS, 0, 3) + b"abc", "not JSON"),
        (header(Kind.TUNNELS, 0, 2) + b"[]", "not a JSON object"),
        (header(Kind.FIN, 1, 1) + b"x", "too long"),
    ],
)
def test_a_broken_frame_is_a_protocol_error(data: bytes, problem: str) -> None:
    with pytest.raises(ProtocolError, match=problem):
        FrameBuffer().feed(data)


def test_a_payload_too_large_is_not_encoded() -> None:
    with pytest.raises(ValueError, match="payload"):
        wire.encode(Frame(Kind.PING, 0, b"123456789"))


def test_a_long_reason_is_cut_on_a_character_boundary() -> None:
    frame = wire.text_frame(Kind.RESET, "é" * 2000, 1)

    assert len(frame.payload) <= wire.MAX_REASON
    assert frame.text() == "é" * (len(frame.payload) // 2)


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4096))
def test_any_bytes_decode_to_frames_or_a_protocol_error(data: bytes) -> None:
    try:
        frames = FrameBuffer().feed(data)
    except ProtocolError:
        return

    for frame in frames:
        assert wire.encode(frame) in data


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(list(Kind)),
    st.integers(0, 2**32 - 1),
    st.integers(0, 2**32 - 1),
    st.integers(0, 255),
    st.binary(max_size=64),
)
def test_any_header_is_accepted_only_when_it_keeps_the_rules(
    kind: Kind, stream: int, length: int, flags: int, payload: bytes
) -> None:
    data = wire.HEADER.pack(kind, flags, stream, length) + payload

    try:
        frames = FrameBuffer().feed(data)
    except ProtocolError:
        return

    for frame in frames:
        assert flags == 0
        assert (frame.stream_id == 0) == (frame.kind in wire.CONNECTION_KINDS)
        assert len(frame.payload) <= wire.max_payload(frame.kind)
