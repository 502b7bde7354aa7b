"""Building engines on TensorRT 10.x and 11.x (fake module): options, fp16, errors, logs."""

from __future__ import annotations

import hashlib
import logging
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from fakes.helpers import (
    ACTION_INPUTS,
    ACTION_OUTPUTS,
    POSE_INPUTS,
    POSE_OUTPUTS,
    feeds_for,
    install_fakes,
    write_onnx,
)

from htt_ros.engines.base import EngineError, TensorSpec
from htt_ros.engines.onnx_fp16 import SOURCE_KEY, fp16_path
from htt_ros.engines.tensorrt_backend import TensorRTOptions, TensorRTRunner
from htt_ros.engines.trt_build import trt_logger


@pytest.fixture
def model(tmp_path: Path) -> Path:
    return write_onnx(tmp_path / "pose_step.onnx", POSE_INPUTS, POSE_OUTPUTS)


def make_runner(model: Path, **options: object) -> TensorRTRunner:
    opts = TensorRTOptions(cache_dir=model.parent / "cache", warmup_runs=0, **options)  # type: ignore[arg-type]
    return TensorRTRunner(model, POSE_INPUTS, POSE_OUTPUTS, opts)


def test_fake_versions_match_the_facts(monkeypatch):
    trt10, _ = install_fakes(monkeypatch, 10)
    assert hasattr(trt10.BuilderFlag, "FP16")
    assert hasattr(trt10.NetworkDefinitionCreationFlag, "EXPLICIT_BATCH")
    trt11, _ = install_fakes(monkeypatch, 11)
    assert not hasattr(trt11.BuilderFlag, "FP16")
    assert not hasattr(trt11.NetworkDefinitionCreationFlag, "EXPLICIT_BATCH")
    assert hasattr(trt11.BuilderFlag, "TF32")


def test_tensorrt10_fp16_sets_the_flag_on_a_weakly_typed_network(monkeypatch, model):
    trt, _ = install_fakes(monkeypatch, 10)
    runner = make_runner(model, workspace_mib=256)
    (network,), (config,) = trt.fake.networks, trt.fake.configs
    assert network.flags == 0 and not network.strongly_typed
    assert config.flags == {trt.BuilderFlag.FP16}
    assert config.pool_limits == {trt.MemoryPoolType.WORKSPACE: 256 << 20}
    assert runner.record.onnx == model and not fp16_path(model).exists()


def test_tensorrt10_fp32_sets_no_precision_flag(monkeypatch, model):
    trt, _ = install_fakes(monkeypatch, 10)
    make_runner(model, precision="fp32")
    assert trt.fake.configs[0].flags == set()


def test_tensorrt11_fp16_builds_the_fp16_onnx_twin(monkeypatch, model, caplog):
    pytest.importorskip("onnxconverter_common")
    trt, _ = install_fakes(monkeypatch, 11)
    with caplog.at_level(logging.WARNING, "htt_ros.engines.tensorrt"):
        runner = make_runner(model, workspace_mib=512)
    twin = fp16_path(model)
    assert runner.record.onnx == twin and twin.name == "pose_step.fp16.onnx"
    (network,), (config,) = trt.fake.networks, trt.fake.configs
    assert network.strongly_typed and network.fp16_tensors  # the parser saw fp16 weights
    assert config.flags == set()
    assert config.pool_limits == {trt.MemoryPoolType.WORKSPACE: 512 << 20}
    assert "converting pose_step.onnx to fp16" in caplog.text
    # The twin keeps the graph's I/O types (the runner's buffers and bindings stay the same).
    graph = onnx.load(str(twin)).graph
    types = {v.name: v.type.tensor_type.elem_type for v in [*graph.input, *graph.output]}
    assert types["image"] == onnx.TensorProto.UINT8 and types["valid"] == onnx.TensorProto.BOOL
    assert types["prev_features"] == types["pose_raw"] == onnx.TensorProto.FLOAT


def test_tensorrt11_fp32_builds_the_onnx_itself(monkeypatch, model):
    trt, _ = install_fakes(monkeypatch, 11)
    runner = make_runner(model, precision="fp32")
    assert runner.record.onnx == model and not trt.fake.networks[0].fp16_tensors
    assert not fp16_path(model).exists()


def test_fp16_twin_is_remade_when_the_onnx_changes_and_reused_otherwise(monkeypatch, model):
    pytest.importorskip("onnxconverter_common")
    trt, _ = install_fakes(monkeypatch, 11)
    make_runner(model)
    twin = fp16_path(model)
    made = twin.stat().st_mtime_ns
    make_runner(model)
    assert twin.stat().st_mtime_ns == made and trt.fake.builds == 1
    write_onnx(model, POSE_INPUTS, POSE_OUTPUTS, seed=3)
    assert make_runner(model).record.built and trt.fake.builds == 2
    recorded = {p.key: p.value for p in onnx.load(str(twin)).metadata_props}
    assert recorded[SOURCE_KEY] == hashlib.sha256(model.read_bytes()).hexdigest()


def test_fp16_twin_made_elsewhere_is_used_as_given(monkeypatch, model):
    install_fakes(monkeypatch, 11)
    twin = write_onnx(fp16_path(model), POSE_INPUTS, POSE_OUTPUTS, seed=9)  # e.g. AutoCast's
    given = twin.read_bytes()
    assert make_runner(model).record.onnx == twin
    assert twin.read_bytes() == given


def test_tensorrt11_fp16_without_converter_explains_the_missing_piece(monkeypatch, model):
    install_fakes(monkeypatch, 11)
    monkeypatch.setitem(sys.modules, "onnxconverter_common", None)
    monkeypatch.setitem(sys.modules, "onnxconverter_common.float16", None)
    with pytest.raises(EngineError, match=r"pip install onnxconverter-common.*AutoCast.*fp32"):
        make_runner(model)


def test_fp16_twin_in_a_read_only_folder_is_a_clear_error(monkeypatch, model):
    pytest.importorskip("onnxconverter_common")
    install_fakes(monkeypatch, 11)

    def refuse(path: Path, data: bytes) -> None:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr("htt_ros.engines.onnx_fp16.write_atomic", refuse)
    with pytest.raises(
        EngineError, match=r"cannot write .*pose_step.fp16.onnx.*htt-build-engines"
    ):
        make_runner(model)


@pytest.mark.parametrize("major", [10, 11])
def test_parse_failure_reports_the_parser_errors(monkeypatch, model, major):
    trt, _ = install_fakes(monkeypatch, major)
    trt.fake.fail_parse = True
    with pytest.raises(EngineError, match=r"cannot parse .*pose_step.*unsupported operator Foo"):
        make_runner(model, precision="fp32")


def test_uint8_input_not_followed_by_a_cast_fails_to_parse(monkeypatch, tmp_path):
    install_fakes(monkeypatch, 10)
    inputs = (TensorSpec("image", (1, 4, 6, 3), np.dtype(np.uint8)),)
    outputs = (TensorSpec("out", (2,), np.dtype(np.float32)),)
    path = write_onnx(tmp_path / "bad.onnx", inputs, outputs)
    model = onnx.load(str(path))
    model.graph.node[0].op_type = "Identity"  # uint8 flows into the network
    del model.graph.node[0].attribute[:]
    onnx.save(model, str(path))
    with pytest.raises(EngineError, match=r"UINT8 is only supported"):
        TensorRTRunner(path, inputs, outputs, TensorRTOptions(cache_dir=tmp_path, warmup_runs=0))


def test_build_returning_none_is_an_error_with_tensorrts_reason(monkeypatch, model):
    trt, _ = install_fakes(monkeypatch, 10)
    trt.fake.build_none = True
    with pytest.raises(EngineError, match=r"failed to build pose_step \(fp16\).*out of tactics"):
        make_runner(model)


def test_build_logs_start_and_duration(monkeypatch, model, caplog):
    install_fakes(monkeypatch, 10)
    with caplog.at_level(logging.INFO, "htt_ros.engines.tensorrt"):
        runner = make_runner(model)
    messages = [r.getMessage() for r in caplog.records]
    start = messages.index("building TensorRT engine for pose_step (fp16), this can take minutes")
    done = [m for m in messages if m.startswith("built TensorRT engine for pose_step (fp16) in ")]
    assert len(done) == 1 and messages.index(done[0]) > start
    assert str(runner.record.path) in done[0]
    assert caplog.records[start].levelno == logging.WARNING  # seen even with default logging


def test_tensorrt_messages_go_to_python_logging(monkeypatch, model, caplog):
    trt, _ = install_fakes(monkeypatch, 10)
    with caplog.at_level(logging.DEBUG, "htt_ros.engines.tensorrt"):
        make_runner(model)
        trt_logger(trt).log(trt.ILogger.Severity.WARNING, "Using an engine plan across models")
    levels = {r.getMessage(): r.levelno for r in caplog.records}
    assert levels["TensorRT: [MemUsageChange] Init builder kernel library"] == logging.DEBUG
    assert levels["TensorRT: Using an engine plan across models"] == logging.WARNING
    assert trt_logger(trt) is trt_logger(trt)  # one logger per process


def test_the_action_graph_builds_and_names_itself(monkeypatch, tmp_path):
    install_fakes(monkeypatch, 10)
    path = write_onnx(tmp_path / "action.onnx", ACTION_INPUTS, ACTION_OUTPUTS)
    runner = TensorRTRunner(
        path,
        ACTION_INPUTS,
        ACTION_OUTPUTS,
        TensorRTOptions(cache_dir=tmp_path / "c", warmup_runs=0),
    )
    assert runner.graph == "action" and runner.record.path.name.startswith("action.")
    assert runner.run(feeds_for(ACTION_INPUTS))["action_logits"].shape == (7,)


def test_missing_tensorrt_and_old_tensorrt_are_clear_errors(monkeypatch, model):
    install_fakes(monkeypatch, 10)
    monkeypatch.setitem(sys.modules, "tensorrt", None)
    with pytest.raises(EngineError, match=r"python3-libnvinfer.*pip install tensorrt"):
        make_runner(model)
    trt, _ = install_fakes(monkeypatch, 10)
    trt.__version__ = "8.6.1"
    with pytest.raises(EngineError, match=r"8.6.1 is too old"):
        make_runner(model)


@pytest.mark.parametrize(
    ("options", "message"),
    [({"precision": "int8"}, "choose one of"), ({"workspace_mib": 0}, "workspace_mib must be")],
)
def test_bad_options_are_rejected(monkeypatch, model, options, message):
    install_fakes(monkeypatch, 10)
    with pytest.raises(EngineError, match=message):
        make_runner(model, **options)


def test_missing_onnx_file_is_a_clear_error(monkeypatch, tmp_path):
    install_fakes(monkeypatch, 10)
    with pytest.raises(EngineError, match=r"not found.*htt-export"):
        make_runner(tmp_path / "pose_step.onnx")
