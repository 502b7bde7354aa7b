"""``htt-export ws.zip``: the authors' release archive as downloaded, a checkpoint picked from it
by the data set its head shapes are for."""

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from htt_test_utils import authors_state_dict, write_authors_checkpoint

from htt_ros.tools.htt_export import main

pytestmark = pytest.mark.slow
SIZE = ["--input-size", "64", "36"]  # small network input keeps the exports fast
FPHA_MEMBER = "ws/ckpts/htt_fpha/checkpoint_45.pth"
H2O_MEMBER = "ws/ckpts/htt_h2o/checkpoint_45.pth"


def release_zip(path: Path, checkpoints: dict[str, Path]) -> Path:
    """A zip laid out like the authors' ws.zip: ws/ckpts/<experiment>/*.pth and ws/curves/."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        for member, checkpoint in checkpoints.items():
            archive.write(checkpoint, member)
        archive.writestr("ws/ckpts/htt_fpha/opt.txt", "lr: 3e-05\n")
        archive.writestr("ws/curves/fpha/joints3d_3Dhand.npz", b"not read")
    return path


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("authors")
    return {
        name: write_authors_checkpoint(root / f"{name}.pth", authors_state_dict(name, seed=1))
        for name in ("fpha", "h2o")
    }


@pytest.mark.timeout(600)
def test_htt_export_takes_the_downloaded_zip(tmp_path: Path, checkpoints) -> None:
    """The command as a user types it, on a zip with one data set's checkpoint: no --dataset."""
    archive = release_zip(tmp_path / "ws.zip", {FPHA_MEMBER: checkpoints["fpha"]})
    out = tmp_path / "models" / "fpha"
    result = subprocess.run(
        [sys.executable, "-m", "htt_ros.tools.htt_export", str(archive), str(out), *SIZE],
        capture_output=True,
        text=True,
        timeout=540,
    )
    assert result.returncode == 0, result.stderr
    assert f"exporting {FPHA_MEMBER} (fpha, epoch 45)" in result.stdout
    card = json.loads((out / "model.json").read_text())
    assert card["dataset"] == "fpha" and card["num_joints"] == 21
    assert card["provenance"]["checkpoint"] == "checkpoint_45.pth"
    assert (out / "pose_step.onnx").is_file() and (out / "action.onnx").is_file()


@pytest.mark.timeout(600)
def test_zip_with_both_data_sets_needs_dataset(tmp_path: Path, checkpoints, capsys) -> None:
    members = {FPHA_MEMBER: checkpoints["fpha"], H2O_MEMBER: checkpoints["h2o"]}
    archive = release_zip(tmp_path / "ws.zip", members)
    out = tmp_path / "h2o"

    assert main([str(archive), str(out), *SIZE]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "Traceback" not in error
    assert "2 data sets" in error and FPHA_MEMBER in error and H2O_MEMBER in error
    assert "pass --dataset fpha or --dataset h2o" in error
    assert not out.exists()

    assert main([str(archive), str(out), "--dataset", "h2o", *SIZE]) == 0
    assert json.loads((out / "model.json").read_text())["dataset"] == "h2o"
    assert f"exporting {H2O_MEMBER} (h2o, epoch 45)" in capsys.readouterr().out


def test_zip_refusals_name_the_fix(tmp_path: Path, checkpoints, capsys) -> None:
    empty = release_zip(tmp_path / "empty.zip", {})
    assert main([str(empty), str(tmp_path / "a"), *SIZE]) == 2
    assert "holds no checkpoint" in capsys.readouterr().err

    fpha_only = release_zip(tmp_path / "ws.zip", {FPHA_MEMBER: checkpoints["fpha"]})
    assert main([str(fpha_only), str(tmp_path / "b"), "--dataset", "h2o", *SIZE]) == 2
    error = capsys.readouterr().err
    assert f"holds no h2o checkpoint, only fpha ({FPHA_MEMBER})" in error

    assert main([str(fpha_only), str(tmp_path / "c"), "--member", "ckpts/x.pth", *SIZE]) == 2
    assert f"has no checkpoint 'ckpts/x.pth'; it has ['{FPHA_MEMBER}']" in capsys.readouterr().err

    plain = checkpoints["fpha"]  # a torch file is a zip too, but not an archive of checkpoints
    assert main([str(plain), str(tmp_path / "d"), "--member", FPHA_MEMBER, *SIZE]) == 2
    assert "--member needs a zip archive" in capsys.readouterr().err
