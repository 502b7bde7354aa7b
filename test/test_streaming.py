"""The streaming pipeline against the network run on whole clips and windows."""

import numpy as np
import pytest
import torch
from model_folders import SIZE, camera_frames, export_small_model

from htt_ros.engines.loader import load_model, warm_up
from htt_ros.geometry import POSE_FRAME, decode_25d, scale_intrinsics
from htt_ros.model import load_network
from htt_ros.streaming.frame_selection import NS_PER_S
from htt_ros.streaming.pipeline import StreamingConfig, StreamingPipeline
from htt_ros.streaming.preprocess import to_network_input

CAMERA_SIZE = (224, 126)  # 16:9, not the network size: results must come in camera pixels
K = np.array([[160.0, 0.0, 115.0], [0.0, 158.0, 62.0], [0.0, 0.0, 1.0]])
TOL = 1e-4


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return export_small_model(tmp_path_factory.mktemp("models") / "fpha_small")


@pytest.fixture(scope="module")
def net(folder):
    return load_network(folder / "network.pt")


def stamps_30hz(n: int, start_s: float = 5.0) -> list[int]:
    return [int((start_s + i / 30.0) * NS_PER_S) for i in range(n)]


def run(pipeline: StreamingPipeline, frames, stamps):
    poses, actions, resets = [], [], []
    for frame, stamp in zip(frames, stamps, strict=True):
        out = pipeline.push(frame, stamp, K, tag=stamp)
        poses += out.poses
        actions += out.actions
        resets += [out.reset_reason] if out.reset_reason else []
    return poses, actions, resets


def network_inputs(frames):
    """What the pipeline feeds the network (resized frames as float tensors) and decodes with
    (K scaled to the 480x270 decoding frame)."""
    images = np.concatenate([to_network_input(f, SIZE, POSE_FRAME)[0] for f in frames])
    tensor = torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255.0 - 0.5
    return tensor, scale_intrinsics(K, CAMERA_SIZE, POSE_FRAME)


@pytest.mark.parametrize("backend", ["onnxruntime", "torch"])
def test_segment_mode_reproduces_forward_clip(folder, net, backend) -> None:
    model = load_model(folder, backend=backend)
    T = model.card.clip_length
    config = StreamingConfig(mode="segment", action_stride=T, action_smoothing=1)
    pipeline = StreamingPipeline(model.card, model.pose_step, model.action, config)
    frames, stamps = camera_frames(2 * T, CAMERA_SIZE), stamps_30hz(2 * T)
    poses, actions, resets = run(pipeline, frames, stamps)

    assert resets == ["first frame"]
    assert [p.frame.tag for p in poses] == stamps[::2]  # 30 Hz camera, 15 Hz model
    images, k_frame = network_inputs(frames[::2])
    ref = net.forward_clip(
        images,
        torch.from_numpy(np.repeat(k_frame[None], T, 0)).float(),
        torch.ones(T, dtype=torch.bool),
    )
    scale = np.array(CAMERA_SIZE) / np.array(POSE_FRAME)
    np.testing.assert_allclose(
        np.stack([p.joints2d for p in poses]), ref["joints2d"].numpy() * scale, atol=TOL * 100
    )
    np.testing.assert_allclose(
        np.stack([p.joints3d for p in poses]), ref["joints3d"].numpy(), atol=TOL
    )
    np.testing.assert_allclose(
        np.stack([p.object_probs for p in poses]), ref["object_probs"].numpy(), atol=TOL
    )
    assert all(p.complete_window and p.lag_frames == 0 for p in poses)
    (action,) = actions
    assert action.window_frames == T and action.first.tag == stamps[0]
    assert action.newest.tag == stamps[-2]
    np.testing.assert_allclose(action.smoothed, ref["action_probs"].numpy(), atol=TOL)


@pytest.mark.parametrize("lag", [0, 3])
def test_sliding_pose_for_lag_equals_p_on_the_window_ending_lag_frames_later(
    folder, net, lag
) -> None:
    model = load_model(folder)
    t = model.card.window
    pipeline = StreamingPipeline(
        model.card,
        model.pose_step,
        model.action,
        StreamingConfig(mode="sliding", lag=lag, rate_hz=0.0),
    )
    n = t + 8
    frames = camera_frames(n, CAMERA_SIZE, seed=1)
    poses, _, _ = run(pipeline, frames, stamps_30hz(n))
    assert len(poses) == n - lag

    images, k_frame = network_inputs(frames)
    with torch.no_grad():
        features = net.trunk(images)
        for m in (t, t + 4, n - 1 - lag):  # frames whose window ending at m + lag is full
            window = features[m + lag - t + 1 : m + lag + 1]
            pout = net.pose_block(window[None], torch.ones(1, t, dtype=torch.bool))[0]
            pose_raw = net.frame_heads(pout)["pose_raw"][t - 1 - lag].numpy()
            _, _, joints3d = decode_25d(pose_raw, k_frame)
            pose = poses[m]
            assert pose.frame.tag == stamps_30hz(n)[m]
            assert pose.complete_window and pose.lag_frames == lag
            np.testing.assert_allclose(pose.joints3d, joints3d, atol=TOL)


def test_partial_segment_is_flushed_on_reset_as_the_authors_pad(folder, net) -> None:
    model = load_model(folder)
    t = model.card.window
    pipeline = StreamingPipeline(
        model.card, model.pose_step, model.action, StreamingConfig(mode="segment", rate_hz=0.0)
    )
    frames = camera_frames(5, CAMERA_SIZE, seed=2)
    stamps = stamps_30hz(5)
    poses, _, _ = run(pipeline, frames, stamps)
    assert poses == []
    out = pipeline.push(frames[0], stamps[0], K)  # time goes backwards: reset, flush
    assert out.reset_reason.startswith("time went backwards")
    assert [p.frame.tag for p in out.poses] == stamps
    assert all(not p.complete_window and p.window_frames == 5 for p in out.poses)

    padded = np.concatenate([frames, np.repeat(frames[-1:], t - 5, axis=0)])
    images, k_frame = network_inputs(padded)
    ref = net.forward_clip(
        images, torch.from_numpy(np.repeat(k_frame[None], t, 0)).float(), torch.arange(t) < 5
    )
    np.testing.assert_allclose(
        np.stack([p.joints3d for p in out.poses]), ref["joints3d"][:5].numpy(), atol=TOL
    )


@pytest.mark.parametrize("lag", [0, 2])
def test_sliding_warm_up_pads_after_the_real_frames_as_the_authors_do(folder, net, lag) -> None:
    """After a reset, frame k's pose comes from P over frames 0..k at positions 0..k with the
    masked padding after them (not the newest at position t-1)."""
    model = load_model(folder)
    t = model.card.window
    config = StreamingConfig(mode="sliding", lag=lag, rate_hz=0.0)
    pipeline = StreamingPipeline(model.card, model.pose_step, model.action, config)
    frames = camera_frames(t - 4, CAMERA_SIZE, seed=4)
    poses, _, _ = run(pipeline, frames, stamps_30hz(len(frames)))
    images, k_frame = network_inputs(frames)
    for k in (0, 3, len(frames) - 1 - lag):
        newest = k + lag
        padded = torch.cat(
            [images[: newest + 1], images[newest : newest + 1].expand(t - 1 - newest, -1, -1, -1)]
        )
        ref = net.forward_clip(
            padded,
            torch.from_numpy(np.repeat(k_frame[None], t, 0)).float(),
            torch.arange(t) <= newest,
        )
        assert poses[k].window_frames == newest + 1 and poses[k].lag_frames == lag
        np.testing.assert_allclose(poses[k].joints3d, ref["joints3d"][k].numpy(), atol=TOL)


class CountingRunner:
    """A graph runner that counts its runs (each pose_step run is one ResNet pass)."""

    def __init__(self, runner) -> None:
        self.runner, self.runs = runner, 0
        self.inputs, self.outputs = runner.inputs, runner.outputs

    def run(self, feeds):
        self.runs += 1
        return self.runner.run(feeds)


@pytest.mark.parametrize("mode", ["sliding", "segment"])
def test_every_frame_goes_through_the_resnet_once(folder, mode) -> None:
    """Filling a window (after the first frame and each reset), complete windows and the flush
    of a partial segment: one pose_step run per processed frame, and every frame gets a pose."""
    model = load_model(folder)
    t = model.card.window
    step = CountingRunner(model.pose_step)
    config = StreamingConfig(mode=mode, lag=0, rate_hz=0.0)
    pipeline = StreamingPipeline(model.card, step, model.action, config)
    n = t + 5
    frames = camera_frames(n, CAMERA_SIZE, seed=5)
    stamps = stamps_30hz(n) + stamps_30hz(n, start_s=2.0)  # time goes backwards: a reset
    poses, _, resets = run(pipeline, np.concatenate([frames, frames]), stamps)
    poses += pipeline.flush().poses
    assert resets[1:] and pipeline.frames_processed == 2 * n
    assert step.runs == pipeline.frames_processed
    assert sorted(p.frame.tag for p in poses) == sorted(stamps)


def test_warm_up_runs_each_graph_once_on_inputs_of_its_shapes(folder) -> None:
    model = load_model(folder)
    model.pose_step, model.action = CountingRunner(model.pose_step), CountingRunner(model.action)
    warm_up(model)
    assert (model.pose_step.runs, model.action.runs) == (1, 1)


def test_frames_with_one_stamp_are_told_apart(folder) -> None:
    """Two frames with the same stamp (a camera repeating a stamp) are two frames."""
    model = load_model(folder)
    config = StreamingConfig(mode="sliding", lag=1, rate_hz=0.0)
    pipeline = StreamingPipeline(model.card, model.pose_step, model.action, config)
    frames = camera_frames(4, CAMERA_SIZE, seed=5)
    stamps = stamps_30hz(4)
    stamps[1] = stamps[0]
    poses, _, _ = run(pipeline, frames, stamps)
    poses += pipeline.flush().poses
    assert [p.frame.tag for p in poses] == stamps


def test_end_of_stream_classifies_the_tokens_no_action_run_saw(folder) -> None:
    model = load_model(folder)
    config = StreamingConfig(mode="sliding", action_stride=8, rate_hz=0.0)
    pipeline = StreamingPipeline(model.card, model.pose_step, model.action, config)
    frames = camera_frames(11, CAMERA_SIZE, seed=6)
    stamps = stamps_30hz(11)
    _, actions, _ = run(pipeline, frames, stamps)
    assert [a.newest.tag for a in actions] == [stamps[7]]
    last = pipeline.flush().actions
    assert [(a.newest.tag, a.window_frames) for a in last] == [(stamps[10], 11)]
    assert pipeline.flush().actions == []  # nothing left to classify


def test_resets_and_smoothing(folder) -> None:
    model = load_model(folder)
    config = StreamingConfig(mode="sliding", action_stride=4, action_smoothing=3, max_gap_s=0.5)
    pipeline = StreamingPipeline(model.card, model.pose_step, model.action, config)
    frames = camera_frames(40, CAMERA_SIZE, seed=3)
    stamps = stamps_30hz(40)
    stamps[30:] = [s + 2 * NS_PER_S for s in stamps[30:]]  # a 2 s gap before frame 30
    poses, actions, resets = run(pipeline, frames, stamps)

    assert resets[0] == "first frame" and resets[1].startswith("gap of 2.03")
    assert pipeline.resets == 1
    after = [p for p in poses if p.frame.tag >= stamps[30]]
    assert after[0].window_frames == 1 and not after[0].complete_window
    assert [p.window_frames for p in after[:3]] == [1, 2, 3]
    # 15 frames processed before the gap -> actions every 4 tokens, then one more at the reset
    # on the 3 tokens no run classified; smoothing restarts after
    before = [a for a in actions if a.newest.tag < stamps[30]]
    assert len(before) == 15 // 4 + 1
    assert before[-1].newest.tag == stamps[28] and before[-1].window_frames == 15
    np.testing.assert_allclose(before[2].smoothed, np.mean([a.probs for a in before[:3]], 0))
    first_after = next(a for a in actions if a.newest.tag >= stamps[30])
    np.testing.assert_allclose(first_after.smoothed, first_after.probs)


def test_bad_configuration_is_rejected(folder) -> None:
    model = load_model(folder)
    with pytest.raises(ValueError, match="lag must be in"):
        StreamingPipeline(model.card, model.pose_step, model.action, StreamingConfig(lag=16))
    with pytest.raises(ValueError, match="mode must be one of"):
        StreamingPipeline(model.card, model.pose_step, model.action, StreamingConfig(mode="x"))
