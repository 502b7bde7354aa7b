"""The fp16 ONNX twin for TensorRT 11: a valid graph, same I/O types, same results (ORT)."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from htt_ros.engines.onnx_fp16 import ensure_fp16_onnx, fp16_path

ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnxconverter_common")


def tricky_graph(path: Path) -> Path:
    """The three patterns the converter gets wrong on its own, all found in pose_step: a uint8
    input into a Cast, a graph output other nodes also read (``feature``), and an output made by
    a node kept in fp32 (Softmax)."""
    nodes = [
        helper.make_node("Cast", ["image"], ["x"], to=TensorProto.FLOAT),
        helper.make_node("ReduceMean", ["x"], ["feature"], axes=[0, 1, 2], keepdims=0),
        helper.make_node("Mul", ["feature", "scale"], ["scaled"]),
        helper.make_node("Cast", ["valid"], ["valid_f"], to=TensorProto.FLOAT),
        helper.make_node("Mul", ["scaled", "valid_f"], ["masked"]),
        helper.make_node("Softmax", ["masked"], ["probs"]),
    ]
    graph = helper.make_graph(
        nodes,
        "tricky",
        [
            helper.make_tensor_value_info("image", TensorProto.UINT8, [1, 4, 6, 3]),
            helper.make_tensor_value_info("valid", TensorProto.BOOL, [3]),
        ],
        [
            helper.make_tensor_value_info("feature", TensorProto.FLOAT, [3]),
            helper.make_tensor_value_info("probs", TensorProto.FLOAT, [3]),
        ],
        [numpy_helper.from_array(np.float32([0.01, 0.02, 0.03]), "scale")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def test_fp16_twin_is_valid_and_matches_fp32(tmp_path):
    source = tricky_graph(tmp_path / "pose_step.onnx")
    twin = ensure_fp16_onnx(source, "0" * 64)
    onnx.checker.check_model(onnx.load(str(twin)), full_check=True)
    graph = onnx.load(str(twin)).graph
    assert any(t.data_type == TensorProto.FLOAT16 for t in graph.initializer)
    assert [v.type.tensor_type.elem_type for v in [*graph.input, *graph.output]] == [
        TensorProto.UINT8,
        TensorProto.BOOL,
        TensorProto.FLOAT,
        TensorProto.FLOAT,
    ]
    feeds = {
        "image": np.random.default_rng(0).integers(0, 256, (1, 4, 6, 3), dtype=np.uint8),
        "valid": np.array([True, False, True]),
    }
    run = {
        p: ort.InferenceSession(str(p), providers=["CPUExecutionProvider"]) for p in (source, twin)
    }
    want, got = (run[p].run(None, feeds) for p in (source, twin))
    for a, b in zip(want, got, strict=True):
        assert b.dtype == np.float32
        np.testing.assert_allclose(b, a, rtol=2e-3, atol=1e-3)


def test_twin_is_used_unchecked_without_onnx(monkeypatch, tmp_path, caplog):
    source = tricky_graph(tmp_path / "action.onnx")
    fp16_path(source).write_bytes(b"made elsewhere")
    monkeypatch.setitem(sys.modules, "onnx", None)
    with caplog.at_level(logging.INFO, "htt_ros.engines.tensorrt"):
        assert ensure_fp16_onnx(source, "0" * 64) == fp16_path(source)
    assert "pip install onnx" in caplog.text
