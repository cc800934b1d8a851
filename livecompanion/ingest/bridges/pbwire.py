"""A minimal reader of the protobuf wire format, for the few platform messages that arrive as
protobuf inside JSON (bilibili's `INTERACT_WORD_V2` carries its data as base64 protobuf in `pb`).

Reading five scalar fields does not justify a dependency and generated code: `fields(data)` gives
every top-level field as number -> list of raw values (varints as int, length-delimited as bytes,
fixed32/fixed64 as int). Nested messages are bytes; call `fields` on them again. Unknown and
repeated fields are kept; a truncated or malformed buffer raises ValueError saying where.
"""

from __future__ import annotations

_VARINT, _FIXED64, _BYTES, _FIXED32 = 0, 1, 2, 5


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data):
            raise ValueError(f"protobuf: varint runs past the end at byte {pos}")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise ValueError(f"protobuf: varint longer than 10 bytes at byte {pos}")


def fields(data: bytes) -> dict[int, list[int | bytes]]:
    """Every top-level field of one message: field number -> values in wire order."""
    out: dict[int, list[int | bytes]] = {}
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise ValueError(f"protobuf: field number 0 at byte {pos}")
        value: int | bytes
        if wire == _VARINT:
            value, pos = _varint(data, pos)
        elif wire == _BYTES:
            size, pos = _varint(data, pos)
            if pos + size > len(data):
                raise ValueError(f"protobuf: field {number} ({size} bytes) runs past the end")
            value, pos = data[pos : pos + size], pos + size
        elif wire in (_FIXED32, _FIXED64):
            width = 4 if wire == _FIXED32 else 8
            if pos + width > len(data):
                raise ValueError(f"protobuf: field {number} runs past the end")
            value, pos = int.from_bytes(data[pos : pos + width], "little"), pos + width
        else:
            raise ValueError(f"protobuf: unsupported wire type {wire} for field {number}")
        out.setdefault(number, []).append(value)
    return out


def first_int(found: dict[int, list[int | bytes]], number: int) -> int | None:
    for value in found.get(number, ()):
        if isinstance(value, int):
            return value
    return None


def first_text(found: dict[int, list[int | bytes]], number: int) -> str | None:
    for value in found.get(number, ()):
        if isinstance(value, bytes):
            return value.decode("utf-8", errors="replace")
    return None
