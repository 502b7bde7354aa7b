"""Offline replay (htt-replay's engine) of bags from cameras that are not the model's: the same
hands from a frame in a 4:3, 21:9 or 1:1 canvas and from a distorting lens as from the
original 480x270 camera, and what ignoring the lens would cost."""

from pathlib import Path

import numpy as np
import pytest
from camera_scenes import DISTORTIONS, Run, distort_points, in_canvas, original, through_lens
from model_folders import export_small_model
from std_msgs.msg import Header

from htt_ros.bags.bag_io import CAMERA_INFO_TOPIC, IMAGE_TOPIC, BagWriter
from htt_ros.bags.make_bag import to_time
from htt_ros.bags.recording import open_recording
from htt_ros.bags.replay import run_offline
from htt_ros.engines.loader import load_model
from htt_ros.ros.image_messages import camera_info_msg, rgb_to_image_msg
from htt_ros.streaming.pipeline import StreamingConfig

FRAMES = 8
PERIOD_NS = 1_000_000_000 // 15
CONFIG = StreamingConfig(rate_hz=30.0)  # every frame of the 15 Hz bags


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    folder = export_small_model(tmp_path_factory.mktemp("replay_cameras") / "fpha", clip_length=16)
    return load_model(folder)


def replay(model, run: Run, folder: Path, rectification: str = "auto") -> list:
    """``run`` written as a bag and replayed offline; the poses in frame order."""
    path = folder / run.name.replace(":", "x").replace(" ", "_")
    if not path.exists():
        with BagWriter(path) as bag:
            for i, rgb in enumerate(run.frames):
                t_ns = 10**12 + i * PERIOD_NS
                header = Header(stamp=to_time(t_ns), frame_id="camera_optical")
                info = camera_info_msg(run.k, rgb.shape[1], rgb.shape[0], header)
                info.distortion_model, info.d = run.model, list(run.d) or [0.0] * 5
                bag.write(CAMERA_INFO_TOPIC, info, t_ns)
                bag.write(IMAGE_TOPIC, rgb_to_image_msg(rgb, header), t_ns)
    result = run_offline(model, open_recording(path), CONFIG, rectification)
    assert len(result.poses) == FRAMES
    return [result.poses[stamp] for stamp in sorted(result.poses)]


@pytest.mark.parametrize("canvas", ["4:3", "21:9", "1:1"])
def test_a_frame_in_a_canvas_replays_to_the_same_hands(model, canvas, tmp_path) -> None:
    ideal = original(FRAMES)
    reference = replay(model, ideal, tmp_path)
    wide = in_canvas(ideal, canvas)
    for got, ref in zip(replay(model, wide, tmp_path), reference, strict=True):
        assert np.abs(got.joints3d - ref.joints3d).max() * 1000 < 1.0
        assert np.abs(got.joints2d - ref.joints2d - wide.offset).max() < 0.5


@pytest.mark.parametrize("lens", DISTORTIONS)
def test_a_lens_replays_to_the_hands_of_the_ideal_camera(model, lens, tmp_path) -> None:
    ideal = original(FRAMES)
    reference = replay(model, ideal, tmp_path)
    raw = through_lens(ideal, lens)
    undistorted = replay(model, raw, tmp_path)
    ignored = replay(model, raw, tmp_path, rectification="none")
    worst_2d = {"raw": 0.0, "none": 0.0}
    for got, skip, ref in zip(undistorted, ignored, reference, strict=True):
        assert np.abs(got.joints3d - ref.joints3d).max() * 1000 < 2.0  # mm; see the node test
        truth = distort_points(ref.joints2d, raw.k, raw.d, lens)
        worst_2d["raw"] = max(worst_2d["raw"], np.abs(got.joints2d - truth).max())
        worst_2d["none"] = max(worst_2d["none"], np.abs(skip.joints2d - truth).max())
    assert worst_2d["raw"] < 1.5 and worst_2d["none"] > 3 * worst_2d["raw"], worst_2d
