"""htt-build-engines on a toy model folder, with the fake TensorRT and fake GPU."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from fakes.helpers import (
    ACTION_INPUTS,
    ACTION_OUTPUTS,
    POSE_INPUTS,
    POSE_OUTPUTS,
    install_fakes,
    write_onnx,
)

from htt_ros.engines.loader import load_model
from htt_ros.labels import Action, LabelSet
from htt_ros.model_card import Decoding, GraphSpec, ModelCard, sha256_file
from htt_ros.model_card import TensorSpec as CardSpec
from htt_ros.tools.htt_build_engines import main


def card_specs(specs):
    return tuple(CardSpec(s.name, str(s.dtype), s.shape) for s in specs)


@pytest.fixture
def model_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "model"
    folder.mkdir()
    graphs = {}
    for name, inputs, outputs in (
        ("pose_step", POSE_INPUTS, POSE_OUTPUTS),
        ("action", ACTION_INPUTS, ACTION_OUTPUTS),
    ):
        path = write_onnx(folder / f"{name}.onnx", inputs, outputs)
        graphs[name] = GraphSpec(
            path.name, sha256_file(path), card_specs(inputs), card_specs(outputs)
        )
    objects = tuple(f"object{i}" for i in range(5))
    labels = LabelSet(
        "toy",
        tuple(Action(f"a{i}", "take", objects[i % 5]) for i in range(7)),
        objects,
        num_joints=21,
    )
    ModelCard(
        dataset="toy",
        num_joints=21,
        hands=("right",),
        joint_names=tuple(f"j{i}" for i in range(21)),
        bones=((0, 1),),
        labels=labels,
        window=4,
        clip_length=8,
        frame_rate_hz=15.0,
        input_width=6,
        input_height=4,
        normalisation={},
        shrink="area",
        decoding=Decoding(1.0, 1.0, 0.0, (6, 4)),
        graphs=graphs,
        provenance={},
    ).write(folder)
    return folder


def test_load_model_opens_both_graphs_on_tensorrt(monkeypatch, model_dir, tmp_path):
    trt, _ = install_fakes(monkeypatch, 10)
    monkeypatch.setenv("HTT_ENGINE_CACHE", str(tmp_path / "env-cache"))
    model = load_model(model_dir, backend="tensorrt")
    assert model.precision == "fp16" and model.pose_step.backend == "tensorrt"
    assert model.pose_step.inputs == POSE_INPUTS and model.action.outputs == ACTION_OUTPUTS
    feeds = {s.name: np.zeros(s.shape, s.dtype) for s in ACTION_INPUTS}
    assert model.action.run(feeds)["action_logits"].shape == (7,)
    assert len(list((tmp_path / "env-cache").glob("*.engine"))) == 2
    assert trt.fake.configs[0].flags == {trt.BuilderFlag.FP16}


def test_builds_then_finds_the_cached_engines(monkeypatch, model_dir, tmp_path, capsys):
    trt, _ = install_fakes(monkeypatch, 10)
    cache = tmp_path / "cache"
    argv = [str(model_dir), "--cache", str(cache), "--workspace-mib", "64"]
    assert main(argv) == 0
    out = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in out] == ["pose_step", "action"]
    assert all(
        " built in " in line and "fp16, TensorRT 10.3.0.26, Orin (sm_87)" in line for line in out
    )
    assert trt.fake.builds == 2 and trt.fake.configs[0].pool_limits == {
        trt.MemoryPoolType.WORKSPACE: 64 << 20
    }
    assert main(argv) == 0
    assert all("loaded cached engine" in line for line in capsys.readouterr().out.splitlines())
    assert trt.fake.builds == 2
    assert main([*argv, "--force", "--precision", "fp32"]) == 0
    assert trt.fake.builds == 4 and len(list(cache.glob("*.engine"))) == 4


def test_errors_are_one_line_and_exit_2(monkeypatch, model_dir, tmp_path, capsys):
    trt, _ = install_fakes(monkeypatch, 10)
    trt.fake.build_none = True
    assert main([str(model_dir), "--cache", str(tmp_path / "c")]) == 2
    assert capsys.readouterr().err.startswith(
        "htt-build-engines: TensorRT 10.3.0.26 failed to build pose_step (fp16)"
    )
    (model_dir / "action.onnx").write_bytes(b"changed")
    assert main([str(model_dir)]) == 2
    assert "sha256" in capsys.readouterr().err
