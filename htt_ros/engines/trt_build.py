"""TensorRT 10.x / 11.x: import, logging into Python, building a plan from ONNX, loading a plan.

The two majors differ where it matters here (NVIDIA's TensorRT 10 and 11 Python API):
10.x still has ``BuilderFlag.FP16`` (weak typing, deprecated since 10.12); 11.x removed it and
every network is strongly typed, so fp16 there means an fp16 ONNX graph (:mod:`.onnx_fp16`).
Names that exist in only one of them are looked up with ``hasattr``; ``EXPLICIT_BATCH`` is never
used (explicit batch is always on since 10.0, and 11.x removed the name).
"""

from __future__ import annotations

import importlib
import logging
from pathlib import Path
from types import ModuleType
from typing import Any

from htt_ros.engines.base import EngineError

LOG = logging.getLogger("htt_ros.engines.tensorrt")

MIN_TENSORRT_MAJOR = 10

_LOGGERS: dict[ModuleType, Any] = {}


def import_tensorrt() -> ModuleType:
    """``import tensorrt``, 10.x or newer, or an :class:`EngineError` saying how to get it."""
    try:
        trt = importlib.import_module("tensorrt")
    except ImportError as err:
        raise EngineError(
            f"the tensorrt backend needs TensorRT's Python bindings ({err}): on Jetson install "
            f"JetPack's python3-libnvinfer and create the venv with --system-site-packages; on "
            f"x86 pip install tensorrt; or use the onnxruntime backend"
        ) from err
    major = int(str(trt.__version__).split(".")[0])
    if major < MIN_TENSORRT_MAJOR:
        raise EngineError(
            f"TensorRT {trt.__version__} is too old: htt_ros needs {MIN_TENSORRT_MAJOR}.x or "
            f"newer (JetPack 6+); upgrade TensorRT or use the onnxruntime backend"
        )
    return trt


def has_fp16_flag(trt: ModuleType) -> bool:
    """True on 10.x, where ``BuilderFlag.FP16`` exists; False on 11.x (precision from the ONNX)."""
    return hasattr(trt.BuilderFlag, "FP16")


def trt_logger(trt: ModuleType) -> Any:
    """The process's one ``trt.ILogger``, forwarding TensorRT's messages to Python logging.

    TensorRT keeps the first logger it is given for the whole process, so one instance is shared
    by every builder and runtime. ERROR messages are also kept, so that an :class:`EngineError`
    can say *why* a parse, build or load failed (TensorRT returns None, it does not raise).
    """
    if trt not in _LOGGERS:
        severity = trt.ILogger.Severity
        levels = {
            severity.INTERNAL_ERROR: logging.CRITICAL,
            severity.ERROR: logging.ERROR,
            severity.WARNING: logging.WARNING,
            severity.INFO: logging.DEBUG,  # a build prints hundreds of INFO lines
            severity.VERBOSE: logging.DEBUG,
        }

        class LogBridge(trt.ILogger):  # type: ignore[misc, name-defined]
            def __init__(self) -> None:
                trt.ILogger.__init__(self)
                self.errors: list[str] = []

            def log(self, sev: Any, msg: str) -> None:
                level = levels.get(sev, logging.INFO)
                LOG.log(level, "TensorRT: %s", msg)
                if level >= logging.ERROR:
                    self.errors = [*self.errors[-9:], msg]

            def take_errors(self) -> str:
                """The ERROR messages since the last call, joined, and forget them."""
                text, self.errors = " | ".join(self.errors), []
                return text or "TensorRT logged no error"

        _LOGGERS[trt] = LogBridge()
    return _LOGGERS[trt]


def build_plan(
    trt: ModuleType, onnx_data: bytes, source: Path, graph: str, precision: str, workspace_mib: int
) -> bytes:
    """Parse ``onnx_data`` (read from ``source``) and build a serialized engine.

    ``precision`` ``fp16`` sets ``BuilderFlag.FP16`` where it exists (10.x; the network is created
    without ``STRONGLY_TYPED``, the only combination 10.x accepts). On 11.x the caller passes the
    fp16 ONNX instead. Raises :class:`EngineError` with the parser's or TensorRT's messages.
    """
    logger = trt_logger(trt)
    logger.take_errors()
    builder = trt.Builder(logger)
    network = builder.create_network(0)
    parser = trt.OnnxParser(network, logger)
    if not parser.parse(onnx_data, str(source)):
        errors = [str(parser.get_error(i)) for i in range(parser.num_errors)]
        raise EngineError(
            f"TensorRT {trt.__version__} cannot parse {source}: "
            f"{'; '.join(errors) or logger.take_errors()}; export it with static shapes at opset "
            f"17 or 18 (htt-export) and inspect it with `polygraphy inspect model {source}`"
        )
    config = builder.create_builder_config()
    config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, workspace_mib << 20)
    if precision == "fp16" and has_fp16_flag(trt):
        config.set_flag(trt.BuilderFlag.FP16)
    plan = builder.build_serialized_network(network, config)
    if plan is None:
        raise EngineError(
            f"TensorRT {trt.__version__} failed to build {graph} ({precision}) from {source}: "
            f"{logger.take_errors()}; try a larger --workspace-mib or precision fp32"
        )
    return bytes(plan)


def deserialize(trt: ModuleType, plan: bytes) -> tuple[Any, Any]:
    """``(runtime, engine)``; engine is None when TensorRT rejects the plan (other TensorRT
    version or GPU, damaged file). The runtime must outlive the engine."""
    runtime = trt.Runtime(trt_logger(trt))
    try:
        return runtime, runtime.deserialize_cuda_engine(plan)
    except (RuntimeError, TypeError, ValueError) as err:
        LOG.warning("TensorRT raised while deserializing an engine: %s", err)
        return runtime, None
