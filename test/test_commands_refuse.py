"""Every command, given what users hand it by mistake, ends with one line naming the problem and
the fix and exit status 2, never a traceback; a bag whose recording was cut off is replayed up to
its last whole message, with a warning. Each command runs as its own process, as a user runs it.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import pytest
import torch
from model_folders import camera_frames

from htt_ros.bags.bag_io import CAMERA_INFO_TOPIC, IMAGE_TOPIC, bag_info, read_raw
from htt_ros.data import synthetic_labels
from htt_ros.model import HTT, HTTConfig, save_checkpoint
from htt_ros.tools.htt_export import main as export_main
from htt_ros.tools.htt_make_bag import main as make_bag

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def paths(tmp_path_factory) -> dict[str, Path]:
    """A model, a bag from htt-make-bag, the same bag cut off mid-file, a regular file, an empty
    folder, a folder with a file in it, a folder whose metadata.yaml is not a bag's, a video, a
    folder of images and a camera calibration file without its camera matrix."""
    root = tmp_path_factory.mktemp("refuse")
    bag = root / "bag"
    assert make_bag([str(bag), "--layout", "synthetic-fpha", "--sequences", "3", "--frames", "6",
                     "--quiet"]) == 0  # fmt: skip
    cut = root / "cut"
    shutil.copytree(bag, cut)
    (mcap,) = cut.glob("*.mcap")
    os.truncate(mcap, int(mcap.stat().st_size * 0.7))  # the robot lost power while recording
    (root / "file.txt").write_text("not a folder\n")
    (root / "empty").mkdir()
    (root / "full").mkdir()
    (root / "full" / "x").write_text("x")
    (root / "not_a_bag").mkdir()
    (root / "not_a_bag" / "metadata.yaml").write_text("rosbag2_bagfile_information: [1, 2\n")
    video = cv2.VideoWriter(str(root / "clip.mp4"), cv2.VideoWriter_fourcc(*"mp4v"), 30, (64, 48))
    for frame in camera_frames(3, (64, 48)):
        video.write(frame)
    video.release()
    (root / "images").mkdir()
    cv2.imwrite(str(root / "images" / "0001.png"), camera_frames(1, (64, 48))[0])
    (root / "calibration.yaml").write_text("image_width: 64\nimage_height: 48\n")
    model = root / "model"  # labelled like the synthetic bag, so that htt-replay can score it
    labels = synthetic_labels("fpha")
    torch.manual_seed(0)
    config = HTTConfig.for_dataset(
        "fpha", clip_length=16, num_actions=len(labels.actions), num_objects=len(labels.objects)
    )
    save_checkpoint(model.with_suffix(".pth"), HTT(config, labels=labels))
    assert (
        export_main([str(model.with_suffix(".pth")), str(model), "--input-size", "112", "64"]) == 0
    )
    return {
        "root": root,
        "model": model,
        "bag": bag,
        "cut": cut,
        "file": root / "file.txt",
        "empty": root / "empty",
        "full": root / "full",
        "not_a_bag": root / "not_a_bag",
        "video": root / "clip.mp4",
        "images": root / "images",
        "calibration": root / "calibration.yaml",
    }


def command(name: str, args: list[str], timeout: float = 120) -> subprocess.CompletedProcess:
    module = f"htt_ros.tools.{name.replace('-', '_')}"
    return subprocess.run(
        [sys.executable, "-m", module, *args], capture_output=True, text=True, timeout=timeout
    )


# (command, arguments with {path} placeholders, what the one line must say)
MISTAKES = [
    ("htt-bench", "{empty}", "is not a model folder"),
    ("htt-bench", "{file}", "not a directory"),
    ("htt-bench", "{model} --json {file}/bench.json", "is a file, not a folder"),
    ("htt-build-engines", "{bag}", "is not a model folder"),
    ("htt-camera-demo", "--model {empty} --seconds 1", "is not a model folder"),
    ("htt-export", "{file} {root}/e1 --input-size 16 9", "is below 32x18 pixels"),
    ("htt-make-bag", "{file}/a/bag --layout synthetic-fpha --quiet", "is a file, not a folder"),
    ("htt-make-bag", "{bag} --layout synthetic-fpha --quiet", "already exists"),
    ("htt-make-bag", "{empty} {root}/new_bag --layout fpha --quiet", "missing"),
    ("htt-quantize", "{model} --calibration {empty}", "no images"),
    ("htt-quantize", "{model} --calibration {root}/absent", "does not exist"),
    ("htt-quantize", "{model} --calibration {file}", "is a file; give a rosbag2 folder"),
    ("htt-quantize", "{model} --calibration synthetic --held-out {root}/absent", "does not exist"),
    ("htt-quantize", "{bag} --calibration {empty}", "is not a model folder"),
    ("htt-replay", "{model} {empty}", "is not a rosbag2 directory"),
    ("htt-replay", "{model} {not_a_bag} --out {root}/r1", "is not a bag that can be read"),
    ("htt-replay", "{bag} {bag} --out {root}/r2", "is not a model folder"),
    ("htt-replay", "{model} {bag} --lag 16 --out {root}/r3", "--lag 16 is beyond"),
    ("htt-replay", "{model} {bag} --out {file}", "is a file, not a folder"),
    ("htt-replay", "{model} {root}/absent --out {root}/r4", "does not exist"),
    ("htt-replay", "{model} {file} --out {root}/r5", "is neither a bag file nor a video"),
    ("htt-replay", "{model} {video} --out {root}/r6", "carries no intrinsics; give --hfov DEG"),
    ("htt-replay", "{model} {images} --hfov 90 --out {root}/r7", "frame rate with --fps"),
    ("htt-replay", "{model} {bag} --fps 30 --out {root}/r8", "drop --fps"),
    ("htt-replay", "{model} {bag} --image-topic /nope --out {root}/r9", "is not a camera topic"),
    ("htt-replay", "{model} {bag} --camera-info-topic /nope --out {root}/r10", "CameraInfo"),
    ("htt-replay", "{model} {video} --hfov 90 --image-topic /x --out {root}/r11", "of a bag"),
    ("htt-replay", "{model} {video} --hfov 190 --out {root}/r12", "is not a field of view"),
    (
        "htt-replay",
        "{model} {video} --hfov 90 --camera-info {calibration} --out {root}/r13",
        "give one of them",
    ),
    (
        "htt-replay",
        "{model} {video} --camera-info {calibration} --out {root}/r14",
        "camera_matrix must be",
    ),
    (
        "htt-replay",
        "{model} {video} --hfov 90 --protocol paper --out {root}/r15",
        "scores against ground truth",
    ),
    ("htt-synth", "{file}/out --layout fpha --quiet", "is a file, not a folder"),
    ("htt-synth", "{full} --layout fpha --quiet", "is not empty"),
    ("htt-synth", "{root}/s1 --layout fpha --sequences 1 --quiet", "at least 2 sequences"),
]

# Numbers out of range: argparse's own usage error (usage lines, then the one error line).
BAD_NUMBERS = [
    ("htt-bench", "{model} --frames 0", "--frames: must be >= 1"),
    ("htt-build-engines", "{model} --workspace-mib 0", "--workspace-mib: must be >= 1"),
    ("htt-camera-demo", "--rate 0", "--rate: must be > 0"),
    ("htt-camera-demo", "--seconds -1", "--seconds: must be > 0"),
    ("htt-make-bag", "{root}/b --layout synthetic-fpha --jpeg-quality 101", "must be 1-100"),
    ("htt-make-bag", "{root}/b --layout synthetic-fpha --gap -1", "--gap: must be >= 0"),
    ("htt-quantize", "{model} --calibration {empty} --max-frames 0", "must be >= 1"),
    ("htt-replay", "{model} {bag} --rate 0", "--rate: must be > 0"),
    ("htt-replay", "{model} {bag} --action-stride 0", "--action-stride: must be >= 1"),
    ("htt-replay", "{model} {bag} --threads x", "'x' is not an integer"),
    ("htt-synth", "{root}/s2 --layout fpha --workers 0", "--workers: must be >= 1"),
]


@pytest.mark.timeout(180)
@pytest.mark.parametrize(("name", "args", "says"), MISTAKES)
def test_a_mistake_ends_in_one_line(paths, name: str, args: str, says: str) -> None:
    proc = command(name, args.format(**paths).split())
    lines = proc.stderr.splitlines()
    assert proc.returncode == 2, proc.stderr
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert lines[0].startswith(f"{name}: ") and says in lines[0], lines[0]
    assert ";" in lines[0], f"no fix named: {lines[0]}"


@pytest.mark.timeout(180)
@pytest.mark.parametrize(("name", "args", "says"), BAD_NUMBERS)
def test_a_bad_number_is_a_usage_error(paths, name: str, args: str, says: str) -> None:
    proc = command(name, args.format(**paths).split())
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    last = proc.stderr.splitlines()[-1]
    assert last.startswith(f"{name}: error: argument") and says in last, last


def whole_images(paths: dict[str, Path]) -> int:
    info = bag_info(paths["cut"])
    assert (
        info.cut_off and 0 < info.counts[IMAGE_TOPIC] < bag_info(paths["bag"]).counts[IMAGE_TOPIC]
    )
    return info.counts[IMAGE_TOPIC]


def test_a_recording_without_metadata_reads_as_cut_off(paths) -> None:
    """A recorder killed before it closes the bag leaves no metadata.yaml either."""
    bare = paths["root"] / "cut_no_metadata"
    shutil.copytree(paths["cut"], bare)
    (bare / "metadata.yaml").unlink()
    info, cut = bag_info(bare), bag_info(paths["cut"])
    assert info.cut_off and info.counts == cut.counts and info.duration_ns == cut.duration_ns
    topics = [IMAGE_TOPIC, CAMERA_INFO_TOPIC]
    assert list(read_raw(bare, topics)) == list(read_raw(paths["cut"], topics))


def check_cut_off_replay(paths: dict[str, Path], mode: str) -> None:
    out = paths["root"] / f"cut_report_{mode}"
    proc = command(
        "htt-replay",
        [str(paths["model"]), str(paths["cut"]), "--mode", mode, "--out", str(out), "--quiet"],
        timeout=240,
    )
    assert proc.returncode == 0, proc.stderr
    count = bag_info(paths["cut"]).message_count
    warning, *progress = proc.stderr.splitlines()
    assert warning == (
        f"htt-replay: warning: {paths['cut']} was cut off (its recording did not end cleanly); "
        f"replaying up to its last whole message, {count} messages read"
    ), proc.stderr
    # Offline replay's progress lines follow, without carriage returns; live replay has none.
    assert bool(progress) == (mode == "offline") and "\r" not in proc.stderr, proc.stderr
    assert all(line.startswith("htt-replay: ") and " frames/s" in line for line in progress)
    report = json.loads((out / "report.json").read_text())
    assert report["frames_sent"] == whole_images(paths), report


@pytest.mark.timeout(300)
def test_a_cut_off_bag_replays_offline_up_to_its_last_whole_message(paths) -> None:
    check_cut_off_replay(paths, "offline")


@pytest.mark.ros
@pytest.mark.timeout(300)
def test_a_cut_off_bag_replays_live_up_to_its_last_whole_message(paths) -> None:
    check_cut_off_replay(paths, "live")
