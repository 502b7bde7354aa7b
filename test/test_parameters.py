"""The parameter table, its validation, config/htt.yaml and the README agree."""

import dataclasses
import re
from pathlib import Path

import pytest
import yaml

from htt_ros.ros.parameters import PARAMETERS, SPECS, check_lag, validate
from htt_ros.streaming.pipeline import StreamingConfig

REPO = Path(__file__).resolve().parents[1]


def test_defaults_are_valid() -> None:
    for spec in PARAMETERS:
        assert validate(spec.name, spec.default) is None, spec.name


def test_streaming_defaults_are_the_node_defaults() -> None:
    """htt-replay and the library's StreamingConfig() run as the node does by default."""
    # rate_hz None is the parameter's 0 (the model's rate)
    field_of = {"model_rate_hz": "rate_hz", "image_fit": "fit"}
    config = StreamingConfig()
    fields = {f.name for f in dataclasses.fields(config)}
    node_names = {name for name in SPECS if field_of.get(name, name) in fields}
    assert {field_of.get(name, name) for name in node_names} == fields
    for name in node_names:
        default = SPECS[name].default
        expected = (default or None) if name == "model_rate_hz" else default
        assert getattr(config, field_of.get(name, name)) == expected, name


@pytest.mark.parametrize(
    ("name", "value", "reason"),
    [
        ("backend", "tensorflow", "must be one of onnxruntime, tensorrt, torch"),
        ("mode", "batch", "must be one of sliding, segment"),
        ("action_stride", 0, "must be >= 1"),
        ("max_gap_s", -1.0, "must be >= 0.0"),
        ("default_hfov_deg", 180.0, "must be <= 179.0"),
        ("diagnostics_max_drop_ratio", 1.5, "must be <= 1.0"),
        ("lag", 1.5, "takes a int, got float"),
        ("publish_markers", 1, "takes a bool, got int"),
        ("no_such_parameter", 1, "unknown parameter"),
    ],
)
def test_invalid_values_are_rejected_with_a_reason(name: str, value, reason: str) -> None:
    message = validate(name, value)
    assert message is not None and reason in message


def test_config_file_lists_every_parameter_with_its_default() -> None:
    config = yaml.safe_load((REPO / "config" / "htt.yaml").read_text())
    assert list(config) == ["/**/htt_node"]
    values = config["/**/htt_node"]["ros__parameters"]
    assert values == {spec.name: spec.default for spec in PARAMETERS}


def test_readme_documents_every_parameter() -> None:
    readme = (REPO / "README.md").read_text()
    documented = dict(re.findall(r"^\| `(\w+)` \| (\w+) \|", readme, flags=re.MULTILINE))
    assert documented == {name: type(spec.default).__name__ for name, spec in SPECS.items()}


def test_an_integer_is_taken_for_a_float() -> None:
    assert validate("model_rate_hz", 15) is None
    assert "must be <= 179.0" in validate("default_hfov_deg", 180)


def test_lag_is_checked_against_the_pose_window() -> None:
    assert check_lag(15, 16) is None
    assert "below the model's pose window 16, got 16" in check_lag(16, 16)
