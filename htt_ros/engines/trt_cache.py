"""On-disk cache of serialized TensorRT engines.

A plan runs only with the TensorRT version and the GPU that built it, so each engine is stored
with a sidecar JSON holding its :class:`CacheKey`: the sha256 of the ONNX it was built from, the
TensorRT version, the GPU name and compute capability and the precision. One file per graph,
ONNX checksum and precision::

    <cache>/pose_step.<onnx sha256[:16]>.fp16.engine
    <cache>/pose_step.<onnx sha256[:16]>.fp16.json

so several model folders share a cache, while a TensorRT upgrade or a GPU swap makes the entry
*stale*: it is rebuilt in place rather than left to pile up. The sidecar also holds the engine's
own sha256, which catches truncated or half-copied files before TensorRT sees them. Writes go to a
temporary file that is renamed over the old one, so a crash never leaves a partial engine, and a
``.lock`` file next to each entry makes concurrent builders of the same engine take turns.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import tempfile
from contextlib import AbstractContextManager, nullcontext
from dataclasses import asdict, dataclass
from pathlib import Path

LOG = logging.getLogger("htt_ros.engines.tensorrt")

CACHE_ENV = "HTT_ENGINE_CACHE"


@dataclass(frozen=True)
class CacheKey:
    """Everything that makes a serialized engine valid for this machine."""

    graph: str
    onnx_sha256: str
    tensorrt_version: str
    gpu_name: str
    compute_capability: str  # "8.7"
    precision: str

    def differences(self, other: dict[str, object]) -> list[str]:
        """``field: old -> new`` for each field in which ``other`` (a stored key) differs."""
        return [
            f"{name}: {other.get(name)!r} -> {value!r}"
            for name, value in asdict(self).items()
            if other.get(name) != value
        ]


def default_cache_dir() -> Path:
    """``$HTT_ENGINE_CACHE``, else ``$XDG_CACHE_HOME/htt_ros/engines`` (``~/.cache/...``)."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "htt_ros" / "engines"


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class EngineCache:
    """Engines in one directory (created on first write). ``directory=None``: the default."""

    def __init__(self, directory: str | Path | None = None) -> None:
        self.directory = Path(directory).expanduser() if directory else default_cache_dir()

    def engine_path(self, key: CacheKey) -> Path:
        return self.directory / f"{key.graph}.{key.onnx_sha256[:16]}.{key.precision}.engine"

    def sidecar_path(self, key: CacheKey) -> Path:
        return self.engine_path(key).with_suffix(".json")

    def load(self, key: CacheKey) -> bytes | None:
        """The cached plan for ``key``, or None (and a log line saying why) when there is none,
        it is stale or it is damaged."""
        path, sidecar = self.engine_path(key), self.sidecar_path(key)
        if not path.exists():
            LOG.info("no cached TensorRT engine for %s at %s", key.graph, path)
            return None
        try:
            meta = json.loads(sidecar.read_text())
            stored_key, engine_sha = dict(meta["key"]), str(meta["engine_sha256"])
        except (OSError, ValueError, KeyError, TypeError) as err:
            LOG.warning("cached engine %s has no readable sidecar (%s); rebuilding", path, err)
            return None
        changed = key.differences(stored_key)
        if changed:
            LOG.warning(
                "cached engine %s is stale (%s); rebuilding", path.name, ", ".join(changed)
            )
            return None
        data = path.read_bytes()
        if sha256_bytes(data) != engine_sha:
            LOG.warning(
                "cached engine %s is corrupt (%d bytes, checksum differs from %s); rebuilding",
                path,
                len(data),
                sidecar.name,
            )
            return None
        return data

    def store(self, key: CacheKey, plan: bytes, info: dict[str, object]) -> Path:
        """Write ``plan`` and its sidecar (key, checksum and ``info``) atomically; return the
        engine path. Raises OSError when the directory cannot be written."""
        path = self.engine_path(key)
        self.directory.mkdir(parents=True, exist_ok=True)
        # Sidecar first out, last in: a crash in between leaves an entry that reads as damaged.
        self.sidecar_path(key).unlink(missing_ok=True)
        write_atomic(path, plan)
        meta = {"key": asdict(key), "engine_sha256": sha256_bytes(plan), **info}
        write_atomic(self.sidecar_path(key), (json.dumps(meta, indent=2) + "\n").encode())
        return path

    def lock(self, key: CacheKey) -> AbstractContextManager[object]:
        """An exclusive lock on ``key``'s entry, held while loading or building, so that nodes
        started together (one per camera) build an engine once; the others wait, then load it.
        A no-op where the cache directory cannot be written."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            handle = open(self.engine_path(key).with_suffix(".lock"), "wb")  # noqa: SIM115
        except OSError:
            return nullcontext()
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            LOG.warning("another process is building the %s engine; waiting for it", key.graph)
            fcntl.flock(handle, fcntl.LOCK_EX)
        return handle  # closing the file releases the lock

    def remove(self, key: CacheKey) -> None:
        """Delete an entry (engine and sidecar); missing files are fine."""
        for path in (self.engine_path(key), self.sidecar_path(key)):
            path.unlink(missing_ok=True)


def write_atomic(path: Path, data: bytes) -> None:
    """Write to a temporary file in the same directory, fsync, then rename over ``path``."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
