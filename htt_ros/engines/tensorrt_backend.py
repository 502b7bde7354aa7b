"""The ``tensorrt`` backend: one ONNX graph as a TensorRT engine, behind :class:`GraphRunner`.

On construction a :class:`TensorRTRunner` loads the engine from the cache (:mod:`.trt_cache`) or
builds it (:mod:`.trt_build`, logged, minutes on a Jetson), checks the engine's I/O tensors by
name, shape and dtype against the specs it was given (the model card's), allocates pinned host
and device buffers once, and warms up, so the first real frame runs at full speed. Each
:meth:`~TensorRTRunner.run` copies the inputs to the GPU, enqueues the engine and copies the
outputs back, all on the runner's own stream, then synchronises once.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np

from htt_ros.engines.base import EngineError, TensorSpec, check_feeds
from htt_ros.engines.cuda_memory import DeviceInfo, MemoryProvider, memory_provider
from htt_ros.engines.onnx_fp16 import ensure_fp16_onnx
from htt_ros.engines.trt_build import (
    build_plan,
    deserialize,
    has_fp16_flag,
    import_tensorrt,
    trt_logger,
)
from htt_ros.engines.trt_cache import CacheKey, EngineCache, sha256_bytes

if TYPE_CHECKING:
    from htt_ros.model_card import ModelCard

LOG = logging.getLogger("htt_ros.engines.tensorrt")

PRECISIONS = ("fp16", "fp32")


@dataclass(frozen=True)
class TensorRTOptions:
    """How engines are built and run.

    Parameters:
        precision: ``fp16`` (default) or ``fp32``. On TensorRT 11 fp16 builds the graph's fp16
            twin (``*.fp16.onnx``, made with onnxconverter-common when missing).
        workspace_mib: TensorRT's workspace memory pool limit, MiB (default 1024; a limit keeps
            a Jetson's shared memory for the rest of the robot).
        cache_dir: engine cache; default ``$HTT_ENGINE_CACHE`` or ``~/.cache/htt_ros/engines``.
        memory: CUDA memory provider: ``auto`` (cuda-python, else pycuda), ``cuda-python`` or
            ``pycuda``.
        warmup_runs: runs on dummy inputs before the runner is returned (default 3).
        force_rebuild: build even if a valid cached engine exists.
    """

    precision: str = "fp16"
    workspace_mib: int = 1024
    cache_dir: str | Path | None = None
    memory: str = "auto"
    warmup_runs: int = 3
    force_rebuild: bool = False


@dataclass(frozen=True)
class EngineRecord:
    """Where a runner's engine came from: built (``seconds`` = build time) or loaded from
    ``path``; ``path`` is None when the cache could not be written. ``onnx`` is the file parsed."""

    built: bool
    seconds: float
    path: Path | None
    onnx: Path


class TensorRTRunner:
    """:class:`~htt_ros.engines.base.GraphRunner` for one ONNX graph on TensorRT 10.x or 11.x.

    ``inputs``/``outputs`` are the graph's expected I/O (from the model card); the engine must
    match them by name, shape and dtype. ``graph`` names the graph in logs, errors and cache files
    (default: the ONNX file's stem). ``memory`` overrides the provider chosen by
    ``options.memory``. One :meth:`run` at a time; call :meth:`close` to free GPU memory early.
    """

    backend = "tensorrt"

    def __init__(
        self,
        onnx_path: str | Path,
        inputs: tuple[TensorSpec, ...],
        outputs: tuple[TensorSpec, ...],
        options: TensorRTOptions | None = None,
        *,
        graph: str | None = None,
        memory: MemoryProvider | None = None,
    ) -> None:
        self.options = options or TensorRTOptions()
        _validate(self.options)
        self.inputs, self.outputs = tuple(inputs), tuple(outputs)
        self.graph = graph or Path(onnx_path).stem
        self._trt = import_tensorrt()
        self.tensorrt_version = str(self._trt.__version__)
        self._memory = memory or memory_provider(self.options.memory)
        self.device = self._memory.device_info()
        self._runtime, self._engine, self.record = _load_or_build(
            self._trt, Path(onnx_path), self.graph, self.options, self.device
        )
        check_bindings(self._trt, self._engine, self.inputs, self.outputs, self.graph)
        self._host: dict[str, np.ndarray] = {}
        self._device: dict[str, int] = {}
        self._stream: int | None = None
        self._context: Any = self._engine.create_execution_context()
        if self._context is None:
            raise EngineError(
                f"{self.graph}: TensorRT could not create an execution context "
                f"({trt_logger(self._trt).take_errors()}); free GPU memory and retry"
            )
        try:
            self._allocate()
            self._warm_up(self.options.warmup_runs)
        except BaseException:
            self.close()
            raise

    def _allocate(self) -> None:
        self._stream = self._memory.create_stream()
        for spec in self.inputs + self.outputs:
            self._host[spec.name] = self._memory.alloc_pinned(spec.shape, spec.dtype)
            self._device[spec.name] = self._memory.alloc_device(self._host[spec.name].nbytes)
            # Addresses persist in the context until changed: set once, not every frame.
            if not self._context.set_tensor_address(spec.name, self._device[spec.name]):
                raise EngineError(
                    f"{self.graph}: TensorRT rejected the address of tensor '{spec.name}' "
                    f"({trt_logger(self._trt).take_errors()})"
                )

    def _warm_up(self, runs: int) -> None:
        """Run on dummy inputs (zeros, masks all valid) so that lazy CUDA/TensorRT set-up is paid
        before the first real frame."""
        feeds = {
            s.name: np.ones(s.shape, s.dtype)
            if s.dtype == np.bool_
            else np.zeros(s.shape, s.dtype)
            for s in self.inputs
        }
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            self.run(feeds)
            times.append(1e3 * (time.perf_counter() - start))
        if times:
            LOG.info(
                "warmed up %s with %d runs: first %.1f ms, last %.1f ms",
                self.graph,
                runs,
                times[0],
                times[-1],
            )

    def run(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Run once on host arrays (see :class:`GraphRunner`); returns fresh output arrays."""
        if self._stream is None:
            raise EngineError(f"{self.graph}: the TensorRT runner is closed; create a new one")
        check_feeds(self.inputs, feeds, self.graph)
        for spec in self.inputs:
            np.copyto(self._host[spec.name], feeds[spec.name])
            self._memory.copy_to_device(
                self._device[spec.name], self._host[spec.name], self._stream
            )
        if not self._context.execute_async_v3(self._stream):
            raise EngineError(
                f"{self.graph}: TensorRT execute_async_v3 failed "
                f"({trt_logger(self._trt).take_errors()})"
            )
        for spec in self.outputs:
            self._memory.copy_to_host(self._host[spec.name], self._device[spec.name], self._stream)
        self._memory.synchronize(self._stream)
        return {spec.name: self._host[spec.name].copy() for spec in self.outputs}

    def close(self) -> None:
        """Free the buffers, the stream and the engine; idempotent."""
        for ptr in self._device.values():
            self._memory.free_device(ptr)
        for array in self._host.values():
            self._memory.free_pinned(array)
        self._device, self._host = {}, {}
        if self._stream is not None:
            self._memory.destroy_stream(self._stream)
            self._stream = None
        self._context = self._engine = self._runtime = None

    def __enter__(self) -> TensorRTRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def load_tensorrt_runners(
    folder: Path,
    card: ModelCard,
    specs: dict[str, tuple[tuple[TensorSpec, ...], tuple[TensorSpec, ...]]],
    precision: str,
    options: TensorRTOptions | None = None,
) -> dict[str, TensorRTRunner]:
    """A runner for each graph in ``specs`` (name -> (inputs, outputs)), built from the ONNX file
    the model card names, at ``precision`` (overriding ``options.precision``)."""
    options = dataclasses.replace(options or TensorRTOptions(), precision=precision)
    return {
        name: TensorRTRunner(
            Path(folder) / card.graphs[name].file, inputs, outputs, options, graph=name
        )
        for name, (inputs, outputs) in specs.items()
    }


def _validate(options: TensorRTOptions) -> None:
    if options.precision not in PRECISIONS:
        raise EngineError(
            f"TensorRT precision {options.precision!r} is not supported; choose one of "
            f"{list(PRECISIONS)}"
        )
    if options.workspace_mib <= 0 or options.warmup_runs < 0:
        raise EngineError(
            f"workspace_mib must be > 0 and warmup_runs >= 0, got {options.workspace_mib} and "
            f"{options.warmup_runs}"
        )


def _load_or_build(
    trt: ModuleType, onnx_path: Path, graph: str, options: TensorRTOptions, device: DeviceInfo
) -> tuple[Any, Any, EngineRecord]:
    """``(runtime, engine, record)`` from the cache or from a fresh build; a stale, damaged or
    unloadable cached engine is rebuilt."""
    if not onnx_path.is_file():
        raise EngineError(
            f"{onnx_path} not found; point the tensorrt backend at a model folder made by "
            f"htt-export"
        )
    source = onnx_path
    if options.precision == "fp16" and not has_fp16_flag(trt):
        source = ensure_fp16_onnx(onnx_path, sha256_bytes(onnx_path.read_bytes()))
    onnx_data = source.read_bytes()
    major, minor = device.compute_capability
    key = CacheKey(
        graph=graph,
        onnx_sha256=sha256_bytes(onnx_data),
        tensorrt_version=str(trt.__version__),
        gpu_name=device.name,
        compute_capability=f"{major}.{minor}",
        precision=options.precision,
    )
    cache = EngineCache(options.cache_dir)
    with cache.lock(key):
        return _load_or_build_locked(trt, cache, key, onnx_data, source, options)


def _load_or_build_locked(
    trt: ModuleType,
    cache: EngineCache,
    key: CacheKey,
    onnx_data: bytes,
    source: Path,
    options: TensorRTOptions,
) -> tuple[Any, Any, EngineRecord]:
    graph = key.graph
    if not options.force_rebuild:
        start = time.perf_counter()
        plan = cache.load(key)
        if plan is not None:
            runtime, engine = deserialize(trt, plan)
            if engine is not None:
                seconds = time.perf_counter() - start
                path = cache.engine_path(key)
                LOG.info("loaded TensorRT engine %s in %.2f s", path, seconds)
                return runtime, engine, EngineRecord(False, seconds, path, source)
            LOG.warning(
                "TensorRT cannot load the cached engine %s (%s); rebuilding",
                cache.engine_path(key),
                trt_logger(trt).take_errors(),
            )
            cache.remove(key)
    LOG.warning(
        "building TensorRT engine for %s (%s), this can take minutes", graph, options.precision
    )
    start = time.perf_counter()
    plan = build_plan(trt, onnx_data, source, graph, options.precision, options.workspace_mib)
    seconds = time.perf_counter() - start
    path: Path | None = None
    try:
        path = cache.store(key, plan, _build_info(seconds, options, source))
    except OSError as err:
        LOG.warning(
            "cannot write the TensorRT engine cache in %s (%s): the engine will be built again "
            "at every start; set HTT_ENGINE_CACHE (or --cache) to a writable directory",
            cache.directory,
            err,
        )
    LOG.warning(
        "built TensorRT engine for %s (%s) in %.1f s%s",
        graph,
        options.precision,
        seconds,
        f", cached at {path}" if path else "",
    )
    runtime, engine = deserialize(trt, plan)
    if engine is None:
        raise EngineError(
            f"TensorRT built {graph} but cannot load the engine it built "
            f"({trt_logger(trt).take_errors()}); check the TensorRT installation"
        )
    return runtime, engine, EngineRecord(True, seconds, path, source)


def _build_info(seconds: float, options: TensorRTOptions, source: Path) -> dict[str, object]:
    return {
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "build_seconds": round(seconds, 2),
        "workspace_mib": options.workspace_mib,
        "onnx_file": str(source),
    }


def _numpy_dtype(trt: ModuleType, dtype: Any) -> np.dtype | None:
    try:
        return np.dtype(trt.nptype(dtype))
    except TypeError:  # BF16, FP8, INT4, ...: no numpy equivalent
        return None


def check_bindings(
    trt: ModuleType,
    engine: Any,
    inputs: tuple[TensorSpec, ...],
    outputs: tuple[TensorSpec, ...],
    graph: str,
) -> None:
    """Raise :class:`EngineError` unless the engine's I/O tensors are exactly ``inputs`` and
    ``outputs``, by name, direction, shape and dtype."""
    found: dict[str, tuple[str, tuple[int, ...], Any]] = {}
    for i in range(engine.num_io_tensors):
        name = engine.get_tensor_name(i)
        kind = "input" if engine.get_tensor_mode(name) == trt.TensorIOMode.INPUT else "output"
        found[name] = (kind, tuple(engine.get_tensor_shape(name)), engine.get_tensor_dtype(name))
    problems = []
    expected = {s.name: ("input", s) for s in inputs} | {s.name: ("output", s) for s in outputs}
    for name, (kind, spec) in expected.items():
        if name not in found or found[name][0] != kind:
            problems.append(f"engine {kind} '{name}' missing")
            continue
        shape, dtype = found[name][1], _numpy_dtype(trt, found[name][2])
        if shape != spec.shape or dtype != spec.dtype:
            problems.append(
                f"engine {kind} '{name}' is {dtype or found[name][2]} {shape}, expected "
                f"{np.dtype(spec.dtype)} {spec.shape}"
            )
    problems += [f"unexpected engine {found[n][0]} '{n}'" for n in found if n not in expected]
    if problems:
        have = ", ".join(
            f"{kind} '{n}' {_numpy_dtype(trt, dt) or dt} {shape}"
            for n, (kind, shape, dt) in found.items()
        )
        raise EngineError(
            f"{graph}: {'; '.join(problems)}; the engine has {have}; rebuild with "
            f"htt-build-engines MODEL_DIR --force (and re-export the model folder if its ONNX "
            f"does not match model.json)"
        )
