"""ONNX Runtime backend: the default everywhere, CPU, or CUDA where onnxruntime-gpu has it."""

import os
from pathlib import Path

import numpy as np

from htt_ros.engines.base import EngineError, TensorSpec, check_feeds

_ORT_TYPES = {
    "tensor(float)": np.dtype(np.float32),
    "tensor(float16)": np.dtype(np.float16),
    "tensor(uint8)": np.dtype(np.uint8),
    "tensor(bool)": np.dtype(bool),
    "tensor(int64)": np.dtype(np.int64),
}


def default_threads() -> int:
    """Intra-op threads when none are asked for: all cores but one (oversubscribing a small
    robot's cores costs 2-40x, see the README), at least one."""
    return max(1, (os.cpu_count() or 1) - 1)


class OnnxRuntimeRunner:
    """One ONNX graph in an ``onnxruntime.InferenceSession``.

    ``threads`` 0 picks :func:`default_threads`. ``device`` ``cpu`` or ``cuda`` (the CUDA
    execution provider, falling back to an error naming the package when it is missing).
    """

    backend = "onnxruntime"

    def __init__(self, path: str | Path, threads: int = 0, device: str = "cpu") -> None:
        import onnxruntime as ort

        self.path = Path(path)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or default_threads()
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Idle intra-op threads sleep instead of spinning: a spinning pool (each session has one)
        # takes the cores the other graph, the image preprocessing and the rest of the robot
        # need; on 2 shared cores the int8 pipeline ran 1.6 times slower with spinning.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        if device == "cuda":
            if "CUDAExecutionProvider" not in ort.get_available_providers():
                raise EngineError(
                    f"ONNX Runtime here has no CUDA provider (it has "
                    f"{', '.join(ort.get_available_providers())}); install onnxruntime-gpu or "
                    f"use device cpu"
                )
            providers = ["CUDAExecutionProvider", "CPUExecutionProvider"]
        elif device == "cpu":
            providers = ["CPUExecutionProvider"]
        else:
            raise EngineError(f"device must be cpu or cuda, got {device!r}")
        try:
            self.session = ort.InferenceSession(str(self.path), options, providers=providers)
        except Exception as error:  # ORT raises its own exception types for any bad file
            raise EngineError(
                f"{self.path}: ONNX Runtime cannot load it ({error}); re-export the model "
                f"folder with htt-export"
            ) from error
        self.inputs = tuple(_spec(arg) for arg in self.session.get_inputs())
        self.outputs = tuple(_spec(arg) for arg in self.session.get_outputs())
        self.threads = options.intra_op_num_threads

    def run(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        check_feeds(self.inputs, feeds, self.path.name)
        values = self.session.run(None, feeds)
        return {spec.name: value for spec, value in zip(self.outputs, values, strict=True)}


def _spec(arg) -> TensorSpec:
    if arg.type not in _ORT_TYPES or not all(isinstance(d, int) for d in arg.shape):
        raise EngineError(
            f"graph tensor '{arg.name}' is {arg.type} {arg.shape}; expected a "
            f"static shape and one of {', '.join(_ORT_TYPES)}"
        )
    return TensorSpec(arg.name, tuple(arg.shape), _ORT_TYPES[arg.type])
