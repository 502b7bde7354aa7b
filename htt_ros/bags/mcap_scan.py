"""The whole messages of an MCAP file that was cut off (a recording that did not end cleanly).

``rosbags`` reads an MCAP file through its footer and summary, which a recorder writes last: a
robot that loses power leaves a file without them, and ``rosbags`` refuses it. This reader walks
the records from the start instead (MCAP records are ``opcode u8, length u64, body``; chunks hold
further records, compressed) and stops at the first one that is cut off, so every message that
was written whole is read, in the order it was written.
"""

import struct
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from rosbags.rosbag2.errors import ReaderError
from rosbags.rosbag2.storage_mcap import decompress

MAGIC = b"\x89MCAP0\r\n"
SCHEMA, CHANNEL, MESSAGE, CHUNK, DATA_END, FOOTER = 0x03, 0x04, 0x05, 0x06, 0x0F, 0x02
_RECORD = struct.Struct("<BQ")


def starts_as_mcap(path: Path) -> bool:
    """Whether ``path`` begins with the MCAP magic (a cut-off file still does)."""
    with open(path, "rb") as f:
        return f.read(len(MAGIC)) == MAGIC


def _string(body: bytes, at: int) -> tuple[str, int]:
    (n,) = struct.unpack_from("<I", body, at)
    return body[at + 4 : at + 4 + n].decode(), at + 4 + n


def _records(f: BinaryIO) -> Iterator[tuple[int, bytes]]:
    """``(opcode, body)`` of the whole top-level records, until the data ends or is cut off."""
    while len(head := f.read(_RECORD.size)) == _RECORD.size:
        opcode, length = _RECORD.unpack(head)
        body = f.read(length)
        if len(body) < length or opcode in (DATA_END, FOOTER):
            return
        yield opcode, body


def _chunk_records(body: bytes) -> Iterator[tuple[int, bytes]]:
    """The records inside a chunk body (start, end, size, crc, compression, records)."""
    _, _, size, crc = struct.unpack_from("<QQQI", body)
    compression, at = _string(body, 28)
    (length,) = struct.unpack_from("<Q", body, at)
    data = decompress(body[at + 8 : at + 8 + length], compression, size, crc)
    at = 0
    while at + _RECORD.size <= len(data):
        opcode, n = _RECORD.unpack_from(data, at)
        yield opcode, data[at + _RECORD.size : at + _RECORD.size + n]
        at += _RECORD.size + n


def whole_messages(path: Path) -> Iterator[tuple[str, str, int, bytes]]:
    """``(topic, type, log_time_ns, cdr)`` of every whole message of ``path``, in file order.

    :raises ReaderError: when the file is not MCAP or a whole chunk is corrupt.
    """
    schemas: dict[int, str] = {}
    channels: dict[int, tuple[str, str]] = {}
    with open(path, "rb") as f:
        if f.read(len(MAGIC)) != MAGIC:
            raise ReaderError(f"{path} is not an MCAP file")
        for opcode, body in _records(f):
            records = _chunk_records(body) if opcode == CHUNK else [(opcode, body)]
            for kind, record in records:
                if kind == SCHEMA:
                    (schema_id,) = struct.unpack_from("<H", record)
                    schemas[schema_id], _ = _string(record, 2)
                elif kind == CHANNEL:
                    channel_id, schema_id = struct.unpack_from("<HH", record)
                    topic, _ = _string(record, 4)
                    channels[channel_id] = (topic, schemas.get(schema_id, ""))
                elif kind == MESSAGE:
                    channel_id, _, log_ns, _ = struct.unpack_from("<HIQQ", record)
                    topic, msgtype = channels[channel_id]
                    yield topic, msgtype, log_ns, record[22:]
