"""htt-bench runs end to end on a small model and reports every number the issue asks for.

Speed targets are read from a real run (see the README), not asserted here: timings on a
shared machine are noise; this checks that the benchmark measures what it claims.
"""

import json

import pytest
from model_folders import export_small_model

from htt_ros.tools.htt_bench import STAGE_NAMES, main
from htt_ros.tools.htt_quantize import main as quantize

pytestmark = pytest.mark.slow


def test_bench_writes_stages_runs_and_ratios(tmp_path) -> None:
    folder = export_small_model(tmp_path / "model")
    frames = ["--max-frames", "8", "--held-out-frames", "8"]
    assert quantize([str(folder), "--calibration", "synthetic", *frames]) == 0
    out = tmp_path / "bench.json"
    args = [
        str(folder),
        "--json",
        str(out),
        "--frames",
        "9",  # A runs every 8th
        "--naive-frames",
        "3",
        "--threads",
        "1",
        "--camera-size",
        "224",
        "128",
    ]
    assert main(args) == 0
    report = json.loads(out.read_text())
    assert report["model"]["parameters"] > 10_000_000  # ResNet-18 and the two transformers
    graphs = {"pose_step.onnx", "action.onnx", "pose_step.int8.onnx", "action.int8.onnx"}
    assert set(report["model"]["onnx_mib"]) == graphs
    assert all(mib > 1 for mib in report["model"]["onnx_mib"].values())
    runs = {(r["backend"], r["precision"], r["threads"]): r for r in report["runs"]}
    assert set(runs) == {
        ("onnxruntime", "fp32", 1),
        ("onnxruntime", "int8", 1),
        ("torch", "fp32", 1),
    }
    for run in runs.values():
        for key in (
            "conversion_resize_ms",
            "resnet_p_step_ms",
            "action_ms",
            "decoding_ms",
            "undistortion_ms",
            "undistortion_maps_ms",
            "pipeline_ms_per_frame",
            "fps",
        ):
            assert run[key] > 0, key
        stages = run["pipeline_stages_ms"]
        assert list(stages) == list(STAGE_NAMES)
        assert all(stages[name] > 0 for name in STAGE_NAMES if name != "other"), stages
        assert sum(stages.values()) == pytest.approx(run["pipeline_ms_per_frame"])
        assert stages["pose_step"] > stages["decoding"]
    ratios = report["ratios"]
    assert ratios["naive_ms_per_frame"] > ratios["streaming_ms_per_frame"] > 0
    assert ratios["pipeline_over_trunk"] > 0 and ratios["naive_over_streaming"] > 1
    assert ratios["int8_ms_per_frame"] > 0 and ratios["int8_trunk_ms"] > 0
    assert ratios["int8_speedup"] > 0 and ratios["int8_pipeline_over_trunk"] > 0
    for total, stages in (
        ("streaming_ms_per_frame", "streaming_stages_ms"),
        ("int8_ms_per_frame", "int8_stages_ms"),
    ):
        assert sum(ratios[stages].values()) == pytest.approx(ratios[total])
    openvino = ratios["openvino"]  # measured only where the openvino package is installed
    assert (
        openvino.startswith("not measured") if isinstance(openvino, str) else "adopt" in openvino
    )
