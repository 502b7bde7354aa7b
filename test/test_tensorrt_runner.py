"""TensorRTRunner end to end on the fake TensorRT and fake GPU: copies, bindings, warm-up."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import numpy as np
import pytest
from fakes.fake_tensorrt import fake_outputs
from fakes.helpers import POSE_INPUTS, POSE_OUTPUTS, feeds_for, install_fakes, write_onnx

from htt_ros.engines.base import EngineError, GraphRunner, TensorSpec
from htt_ros.engines.tensorrt_backend import TensorRTOptions, TensorRTRunner


@pytest.fixture
def model(tmp_path: Path) -> Path:
    return write_onnx(tmp_path / "pose_step.onnx", POSE_INPUTS, POSE_OUTPUTS)


def make_runner(model: Path, inputs=POSE_INPUTS, outputs=POSE_OUTPUTS, **options):
    opts = TensorRTOptions(cache_dir=model.parent / "cache", **{"warmup_runs": 0, **options})
    return TensorRTRunner(model, inputs, outputs, opts)


def expected(feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return fake_outputs(feeds, [(s.name, s.shape, s.dtype) for s in POSE_OUTPUTS])


@pytest.mark.parametrize("provider", ["cuda-python", "pycuda"])
@pytest.mark.parametrize("major", [10, 11])
def test_outputs_come_back_through_the_gpu_by_name(monkeypatch, model, provider, major):
    if major == 11:
        pytest.importorskip("onnxconverter_common")
    _, gpu = install_fakes(monkeypatch, major, pycuda=provider == "pycuda")
    runner: GraphRunner = make_runner(model)
    assert runner.backend == "tensorrt"
    assert runner.inputs == POSE_INPUTS and runner.outputs == POSE_OUTPUTS
    for seed in range(3):
        feeds = feeds_for(POSE_INPUTS, seed)
        outputs = runner.run(feeds)
        assert sorted(outputs) == sorted(s.name for s in POSE_OUTPUTS)
        for spec in POSE_OUTPUTS:
            assert outputs[spec.name].dtype == spec.dtype
            np.testing.assert_array_equal(outputs[spec.name], expected(feeds)[spec.name])
    # One stream, inputs in, execute, outputs out, one synchronisation per run.
    assert gpu.events[-9:] == ["h2d"] * 3 + ["execute"] + ["d2h"] * 4 + ["sync"]
    if provider == "pycuda":
        assert gpu.context_depth == 0  # every push popped


def test_returned_arrays_are_the_callers(monkeypatch, model):
    install_fakes(monkeypatch, 10)
    runner = make_runner(model)
    first = runner.run(feeds_for(POSE_INPUTS, 0))
    kept = first["tokens"].copy()
    runner.run(feeds_for(POSE_INPUTS, 1))
    np.testing.assert_array_equal(first["tokens"], kept)


def test_buffers_are_allocated_once_and_freed_on_close(monkeypatch, model):
    _, gpu = install_fakes(monkeypatch, 10)
    runner = make_runner(model)
    assert len(gpu.device) == len(gpu.pinned) == 7 and len(gpu.streams) == 1
    for seed in range(4):
        runner.run(feeds_for(POSE_INPUTS, seed))
    assert len(gpu.device) == 7
    runner.close()
    runner.close()
    assert gpu.device == {} and gpu.pinned == {} and gpu.streams == {}
    with pytest.raises(EngineError, match="closed"):
        runner.run(feeds_for(POSE_INPUTS))


def test_warm_up_runs_before_the_runner_is_returned(monkeypatch, model, caplog):
    trt, gpu = install_fakes(monkeypatch, 10)
    with caplog.at_level(logging.INFO, "htt_ros.engines.tensorrt"):
        runner = make_runner(model, warmup_runs=2)
    assert trt.fake.executed == 2 and gpu.events.count("sync") == 2
    assert "warmed up pose_step with 2 runs" in caplog.text
    runner.run(feeds_for(POSE_INPUTS))
    assert trt.fake.executed == 3


def test_default_options_warm_up(monkeypatch, model):
    trt, _ = install_fakes(monkeypatch, 10)
    TensorRTRunner(model, POSE_INPUTS, POSE_OUTPUTS, TensorRTOptions(cache_dir=model.parent / "c"))
    assert trt.fake.executed == TensorRTOptions().warmup_runs > 0


def test_feeds_are_checked(monkeypatch, model):
    install_fakes(monkeypatch, 10)
    runner = make_runner(model)
    feeds = feeds_for(POSE_INPUTS)
    feeds["valid"] = feeds["valid"].astype(np.float32)
    with pytest.raises(EngineError, match="'valid' must be bool"):
        runner.run(feeds)


def replace(specs, which, **changes):
    return tuple(dataclasses.replace(s, **changes) if s.name == which else s for s in specs)


@pytest.mark.parametrize(
    ("inputs", "outputs", "message"),
    [
        (
            replace(POSE_INPUTS, "valid", name="mask"),
            POSE_OUTPUTS,
            r"engine input 'mask' missing.*unexpected engine input 'valid'",
        ),
        (
            replace(POSE_INPUTS, "valid", dtype=np.dtype(np.float32)),
            POSE_OUTPUTS,
            r"engine input 'valid' is bool \(4,\), expected float32 \(4,\)",
        ),
        (
            POSE_INPUTS,
            replace(POSE_OUTPUTS, "pose_raw", shape=(4, 42, 3)),
            r"engine output 'pose_raw' is float32 \(4, 21, 3\), expected float32 \(4, 42, 3\)",
        ),
        (POSE_INPUTS, POSE_OUTPUTS[:-1], r"unexpected engine output 'tokens'"),
        (
            (*POSE_INPUTS, TensorSpec("tokens", (4, 8), np.dtype(np.float32))),
            POSE_OUTPUTS[:-1],
            r"engine input 'tokens' missing",
        ),
    ],
    ids=["renamed", "dtype", "shape", "extra", "direction"],
)
def test_bindings_are_checked_by_name_shape_and_dtype(
    monkeypatch, model, inputs, outputs, message
):
    install_fakes(monkeypatch, 10)
    with pytest.raises(EngineError) as err:
        make_runner(model, inputs, outputs)
    assert err.match(message)
    assert err.match(
        r"the engine has input 'image' uint8 \(1, 4, 6, 3\), .*rebuild with "
        r"htt-build-engines MODEL_DIR"
    )


def test_context_creation_failure(monkeypatch, model):
    trt, _ = install_fakes(monkeypatch, 10)
    trt.fake.context_none = True
    with pytest.raises(EngineError, match="could not create an execution context"):
        make_runner(model)


def test_rejected_tensor_address_frees_what_was_allocated(monkeypatch, model):
    trt, gpu = install_fakes(monkeypatch, 10)
    trt.fake.set_address_false = True
    with pytest.raises(EngineError, match="rejected the address of tensor 'image'"):
        make_runner(model)
    assert gpu.device == {} and gpu.pinned == {} and gpu.streams == {}


def test_execute_failure_is_an_error(monkeypatch, model):
    trt, _ = install_fakes(monkeypatch, 10)
    runner = make_runner(model)
    trt.fake.execute_false = True
    with pytest.raises(EngineError, match="execute_async_v3 failed"):
        runner.run(feeds_for(POSE_INPUTS))


def test_cuda_error_codes_become_clear_errors(monkeypatch, model):
    _, gpu = install_fakes(monkeypatch, 10)
    gpu.fail = "cudaMalloc"
    with pytest.raises(EngineError, match="CUDA cudaMalloc failed with cudaErrorMemoryAllocation"):
        make_runner(model)
    assert gpu.pinned == {} and gpu.streams == {}
