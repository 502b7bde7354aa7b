"""Installing the fakes into ``sys.modules`` and writing tiny ONNX graphs with our graphs' I/O."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from htt_ros.engines.base import TensorSpec

from .fake_cuda import FakeGpu, make_fake_cudart, make_fake_pycuda
from .fake_tensorrt import make_fake_tensorrt

# pose_step and action at toy sizes: t=4, T=8, J=21, 6x4 image, 8 features, 5 objects, 7 actions.
POSE_INPUTS = (
    TensorSpec("image", (1, 4, 6, 3), np.dtype(np.uint8)),
    TensorSpec("prev_features", (3, 8), np.dtype(np.float32)),
    TensorSpec("valid", (4,), np.dtype(np.bool_)),
)
POSE_OUTPUTS = (
    TensorSpec("feature", (1, 8), np.dtype(np.float32)),
    TensorSpec("pose_raw", (4, 21, 3), np.dtype(np.float32)),
    TensorSpec("object_logits", (4, 5), np.dtype(np.float32)),
    TensorSpec("tokens", (4, 8), np.dtype(np.float32)),
)
ACTION_INPUTS = (
    TensorSpec("tokens", (8, 8), np.dtype(np.float32)),
    TensorSpec("valid", (8,), np.dtype(np.bool_)),
)
ACTION_OUTPUTS = (TensorSpec("action_logits", (7,), np.dtype(np.float32)),)

_ONNX_TYPES = {
    np.dtype(np.uint8): TensorProto.UINT8,
    np.dtype(np.float32): TensorProto.FLOAT,
    np.dtype(np.bool_): TensorProto.BOOL,
}


def write_onnx(
    path: Path, inputs: tuple[TensorSpec, ...], outputs: tuple[TensorSpec, ...], seed: int = 0
) -> Path:
    """A valid ONNX graph with this I/O: a uint8 input goes straight into a Cast to float (as in
    pose_step), float inputs are scaled, each output is the sum of two float constants. ``seed``
    changes the constants, hence the file's bytes."""
    nodes, initializers = [], []
    for spec in inputs:
        if spec.dtype == np.uint8:
            to = TensorProto.FLOAT
            nodes.append(helper.make_node("Cast", [spec.name], [f"{spec.name}_f"], to=to))
        elif spec.dtype == np.float32:
            nodes.append(helper.make_node("Mul", [spec.name, spec.name], [f"{spec.name}_sq"]))
    rng = np.random.default_rng(seed)
    for spec in outputs:
        for part in ("a", "b"):
            value = rng.standard_normal(spec.shape).astype(np.float32)
            initializers.append(numpy_helper.from_array(value, f"{spec.name}_{part}"))
        nodes.append(helper.make_node("Add", [f"{spec.name}_a", f"{spec.name}_b"], [spec.name]))
    graph = helper.make_graph(
        nodes,
        path.stem,
        [helper.make_tensor_value_info(s.name, _ONNX_TYPES[s.dtype], s.shape) for s in inputs],
        [helper.make_tensor_value_info(s.name, _ONNX_TYPES[s.dtype], s.shape) for s in outputs],
        initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def install_fakes(
    monkeypatch: pytest.MonkeyPatch, major: int, gpu: FakeGpu | None = None, pycuda: bool = False
) -> tuple[object, FakeGpu]:
    """Put a fake ``tensorrt`` (``major`` 10 or 11) and a fake cuda-python (or, with ``pycuda``,
    a fake pycuda and no cuda-python) into ``sys.modules``; returns ``(trt, gpu)``."""
    gpu = gpu or FakeGpu()
    trt = make_fake_tensorrt(major, gpu)
    monkeypatch.setitem(sys.modules, "tensorrt", trt)
    install_cuda(monkeypatch, gpu, cuda_python=not pycuda, pycuda=pycuda)
    return trt, gpu


def install_cuda(
    monkeypatch: pytest.MonkeyPatch, gpu: FakeGpu, *, cuda_python: bool, pycuda: bool
) -> None:
    """Fake (or, when not wanted, hide) cuda-python and pycuda."""
    modules = sys.modules
    rt = make_fake_cudart(gpu) if cuda_python else None
    monkeypatch.setitem(modules, "cuda.bindings.runtime", rt)
    monkeypatch.setitem(modules, "cuda.cudart", rt)
    for name, module in make_fake_pycuda(gpu).items():
        monkeypatch.setitem(modules, name, module if pycuda else None)


def feeds_for(inputs: tuple[TensorSpec, ...], seed: int = 0) -> dict[str, np.ndarray]:
    """Random inputs of the right shapes and dtypes."""
    rng = np.random.default_rng(seed)
    feeds = {}
    for spec in inputs:
        if spec.dtype == np.bool_:
            feeds[spec.name] = rng.random(spec.shape) < 0.5
        elif spec.dtype == np.uint8:
            feeds[spec.name] = rng.integers(0, 256, spec.shape, dtype=np.uint8)
        else:
            feeds[spec.name] = rng.standard_normal(spec.shape).astype(spec.dtype)
    return feeds
