"""TensorRT engine cache: key fields, misses, stale and corrupt engines, atomic writes.

Runs against the fake ``tensorrt`` and fake cuda-python in ``test/fakes`` (no GPU, no TensorRT).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import threading
from pathlib import Path

import pytest
from fakes.fake_cuda import FakeGpu
from fakes.helpers import POSE_INPUTS, POSE_OUTPUTS, install_fakes, write_onnx

from htt_ros.engines.base import EngineError
from htt_ros.engines.tensorrt_backend import TensorRTOptions, TensorRTRunner
from htt_ros.engines.trt_cache import CACHE_ENV, CacheKey, EngineCache, default_cache_dir


@pytest.fixture
def model(tmp_path: Path) -> Path:
    return write_onnx(tmp_path / "pose_step.onnx", POSE_INPUTS, POSE_OUTPUTS)


def make_runner(model: Path, cache: Path, **options: object) -> TensorRTRunner:
    opts = TensorRTOptions(cache_dir=cache, warmup_runs=0, **options)  # type: ignore[arg-type]
    return TensorRTRunner(model, POSE_INPUTS, POSE_OUTPUTS, opts)


def cache_files(cache: Path) -> list[str]:
    """The cache's files, less the (empty) lock files."""
    names = (p.name for p in cache.iterdir()) if cache.exists() else ()
    return sorted(n for n in names if not n.endswith(".lock"))


def test_key_fields_are_recorded_in_the_sidecar(monkeypatch, model, tmp_path):
    install_fakes(monkeypatch, 10, FakeGpu("NVIDIA GeForce RTX 4090", (8, 9)))
    runner = make_runner(model, tmp_path / "cache")
    meta = json.loads(runner.record.path.with_suffix(".json").read_text())
    assert meta["key"] == {
        "graph": "pose_step",
        "onnx_sha256": hashlib.sha256(model.read_bytes()).hexdigest(),
        "tensorrt_version": "10.3.0.26",
        "gpu_name": "NVIDIA GeForce RTX 4090",
        "compute_capability": "8.9",
        "precision": "fp16",
    }
    assert meta["workspace_mib"] == 1024 and "built_at" in meta and "build_seconds" in meta
    assert meta["engine_sha256"] == hashlib.sha256(runner.record.path.read_bytes()).hexdigest()


def test_second_runner_loads_from_cache(monkeypatch, model, tmp_path):
    trt, _ = install_fakes(monkeypatch, 10)
    assert make_runner(model, tmp_path / "c").record.built
    second = make_runner(model, tmp_path / "c")
    assert not second.record.built and trt.fake.builds == 1
    assert second.record.path == make_runner(model, tmp_path / "c").record.path


@pytest.mark.parametrize("change", ["onnx", "tensorrt", "gpu_name", "compute", "precision"])
def test_changing_any_key_field_misses_the_cache(monkeypatch, model, tmp_path, change):
    trt, gpu = install_fakes(monkeypatch, 10)
    make_runner(model, tmp_path / "c")
    precision = "fp16"
    if change == "onnx":
        write_onnx(model, POSE_INPUTS, POSE_OUTPUTS, seed=1)
    elif change == "tensorrt":
        trt.__version__ = "10.3.0.30"
    elif change == "gpu_name":
        gpu.name = "Orin NX"
    elif change == "compute":
        gpu.compute_capability = (7, 2)
    else:
        precision = "fp32"
    runner = make_runner(model, tmp_path / "c", precision=precision)
    assert runner.record.built and trt.fake.builds == 2


def test_stale_engine_is_rebuilt_in_place_and_the_log_says_why(
    monkeypatch, model, tmp_path, caplog
):
    trt, _ = install_fakes(monkeypatch, 10)
    first = make_runner(model, tmp_path / "c")
    trt.__version__ = "10.4.0.1"  # a JetPack upgrade
    with caplog.at_level(logging.INFO, "htt_ros.engines.tensorrt"):
        second = make_runner(model, tmp_path / "c")
    assert second.record.built and second.record.path == first.record.path
    assert "stale (tensorrt_version: '10.3.0.26' -> '10.4.0.1')" in caplog.text
    assert len(cache_files(tmp_path / "c")) == 2  # replaced, not piled up
    assert not make_runner(model, tmp_path / "c").record.built


@pytest.mark.parametrize("damage", ["truncate", "garbage", "no_sidecar", "bad_sidecar"])
def test_damaged_cache_entry_is_rebuilt(monkeypatch, model, tmp_path, caplog, damage):
    trt, _ = install_fakes(monkeypatch, 10)
    path = make_runner(model, tmp_path / "c").record.path
    sidecar = path.with_suffix(".json")
    if damage == "truncate":
        path.write_bytes(path.read_bytes()[:20])
    elif damage == "garbage":
        path.write_bytes(os.urandom(200))
    elif damage == "no_sidecar":
        sidecar.unlink()
    else:
        sidecar.write_text("{not json")
    with caplog.at_level(logging.WARNING, "htt_ros.engines.tensorrt"):
        runner = make_runner(model, tmp_path / "c")
    assert runner.record.built and trt.fake.builds == 2
    assert "rebuilding" in caplog.text
    assert not make_runner(model, tmp_path / "c").record.built


@pytest.mark.parametrize("how", ["returns_none", "raises"])
def test_engine_tensorrt_cannot_deserialize_is_rebuilt(monkeypatch, model, tmp_path, caplog, how):
    trt, _ = install_fakes(monkeypatch, 10)
    make_runner(model, tmp_path / "c")
    if how == "returns_none":
        trt.fake.deserialize_failures = 1
    else:
        trt.fake.deserialize_raises = 1
    with caplog.at_level(logging.WARNING, "htt_ros.engines.tensorrt"):
        runner = make_runner(model, tmp_path / "c")
    assert runner.record.built and trt.fake.builds == 2
    assert "cannot load the cached engine" in caplog.text
    if how == "returns_none":
        assert "Error Code 1: Myelin" in caplog.text  # TensorRT's own reason, via the logger


def test_freshly_built_engine_that_cannot_load_raises(monkeypatch, model, tmp_path):
    trt, _ = install_fakes(monkeypatch, 10)
    trt.fake.deserialize_failures = 1
    with pytest.raises(EngineError, match=r"cannot load the engine it built.*Myelin"):
        make_runner(model, tmp_path / "c")


def test_force_rebuild_ignores_a_valid_entry(monkeypatch, model, tmp_path):
    trt, _ = install_fakes(monkeypatch, 10)
    make_runner(model, tmp_path / "c")
    assert make_runner(model, tmp_path / "c", force_rebuild=True).record.built
    assert trt.fake.builds == 2


def test_failed_build_leaves_no_file(monkeypatch, model, tmp_path):
    trt, _ = install_fakes(monkeypatch, 10)
    trt.fake.build_none = True
    with pytest.raises(EngineError):
        make_runner(model, tmp_path / "c")
    assert cache_files(tmp_path / "c") == []


def test_interrupted_write_leaves_no_partial_file_and_the_runner_still_works(
    monkeypatch, model, tmp_path, caplog
):
    install_fakes(monkeypatch, 10)

    def crash(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", crash)
    with caplog.at_level(logging.WARNING, "htt_ros.engines.tensorrt"):
        runner = make_runner(model, tmp_path / "c")
    assert runner.record.built and runner.record.path is None
    assert cache_files(tmp_path / "c") == []  # no engine, no sidecar, no temporary file
    assert "No space left on device" in caplog.text and "HTT_ENGINE_CACHE" in caplog.text


def test_interrupted_rewrite_keeps_the_old_engine_intact(monkeypatch, model, tmp_path):
    trt, _ = install_fakes(monkeypatch, 10)
    path = make_runner(model, tmp_path / "c").record.path
    old = path.read_bytes()
    trt.__version__ = "10.4.0.1"
    monkeypatch.setattr(os, "replace", lambda *a: (_ for _ in ()).throw(OSError("killed")))
    make_runner(model, tmp_path / "c")
    assert path.read_bytes() == old
    assert [n for n in cache_files(tmp_path / "c") if n.endswith(".tmp")] == []


def test_unwritable_cache_directory_is_a_warning_not_a_crash(monkeypatch, model, tmp_path):
    install_fakes(monkeypatch, 10)
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    assert make_runner(model, blocker / "cache").record.path is None


def test_cache_directory_default_and_environment(monkeypatch, tmp_path):
    monkeypatch.delenv(CACHE_ENV, raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_cache_dir() == tmp_path / ".cache" / "htt_ros" / "engines"
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "env"))
    assert EngineCache().directory == tmp_path / "env"
    assert EngineCache(tmp_path / "explicit").directory == tmp_path / "explicit"


def test_engine_file_names_separate_graphs_models_and_precisions(tmp_path):
    cache = EngineCache(tmp_path)
    key = CacheKey("pose_step", "ab" * 32, "11.4.0.106", "Thor", "11.0", "fp16")
    assert cache.engine_path(key).name == f"pose_step.{'ab' * 8}.fp16.engine"
    assert cache.sidecar_path(key).name == f"pose_step.{'ab' * 8}.fp16.json"
    assert key.differences({**key.__dict__, "gpu_name": "Orin"}) == ["gpu_name: 'Orin' -> 'Thor'"]


def test_concurrent_builders_take_turns(monkeypatch, model, tmp_path, caplog):
    """A second node starting while the first builds waits, then loads the first one's engine."""
    trt, _ = install_fakes(monkeypatch, 10)
    path = make_runner(model, tmp_path / "c").record.path
    plan = path.read_bytes()
    path.unlink()
    results: list[TensorRTRunner] = []
    waiter = threading.Thread(
        target=lambda: results.append(make_runner(model, tmp_path / "c")), daemon=True
    )
    with open(path.with_suffix(".lock"), "wb") as first_node:
        fcntl.flock(first_node, fcntl.LOCK_EX)  # the first node is building
        with caplog.at_level(logging.WARNING, "htt_ros.engines.tensorrt"):
            waiter.start()
            waiter.join(0.3)
        assert waiter.is_alive() and trt.fake.builds == 1
        assert "another process is building the pose_step engine" in caplog.text
        path.write_bytes(plan)  # ... and stores its engine, then releases the lock
    waiter.join(5)
    assert not results[0].record.built and trt.fake.builds == 1
