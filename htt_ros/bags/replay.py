"""Offline replay: every image of a recording through a fresh streaming pipeline, in order, in
this process; the outputs built as the node builds them."""

import time
from dataclasses import dataclass, replace
from typing import TypeVar

import numpy as np

from htt_ros.bags.bag_io import BagError
from htt_ros.bags.bag_io import stamp_ns as header_ns
from htt_ros.bags.evaluation import PosePrediction, ReplayRun
from htt_ros.bags.output_sink import OutputSink
from htt_ros.bags.recording import Recording
from htt_ros.engines.loader import LoadedModel
from htt_ros.progress import Progress
from htt_ros.ros.camera_intrinsics import IntrinsicsSource, Undistortion
from htt_ros.ros.image_conversion import compressed_msg_to_rgb, image_msg_to_rgb
from htt_ros.ros.message_builders import action_msg, hand_poses_msg
from htt_ros.ros.parameters import PARAMETERS
from htt_ros.streaming.pipeline import StreamingConfig, StreamingPipeline
from htt_ros.streaming.results import StepOutput

T = TypeVar("T")
DEFAULTS = {p.name: p.default for p in PARAMETERS}  # the node's defaults, shared by both modes


@dataclass(frozen=True)
class _Pushed:
    """A frame in the pipeline: when its push began, its image size, its undistortion."""

    started: float
    size: tuple[int, int]
    undistort: Undistortion | None


def run_offline(
    model: LoadedModel,
    recording: Recording,
    config: StreamingConfig,
    rectification: str = DEFAULTS["rectification"],
    sink: OutputSink | None = None,
    keep_outputs: bool = True,
) -> ReplayRun:
    """Every image of ``recording`` through a fresh pipeline, in order, with the latest
    CameraInfo read as the node reads it (ROI, binning, undistortion:
    :mod:`~htt_ros.ros.camera_intrinsics`). Each frame is pushed with its image's header as the
    tag, and ``sink`` gets every camera message, then the HandPoses and Action messages the
    node would publish (2D joints in the input image's pixels). The run keeps each output only
    with ``keep_outputs`` (see :class:`ReplayRun`)."""
    pipeline = StreamingPipeline(model.card, model.pose_step, model.action, config)
    card = model.card
    run = ReplayRun("offline", keep_outputs)
    pushed: dict[int, _Pushed] = {}  # by stamp, until the frame's pose comes out
    camera = IntrinsicsSource(recording.camera_info_topic, recording.image_topic)

    def collect(out: StepOutput, stamp_now: int, started: float) -> None:
        """``out`` came from the push of the frame stamped ``stamp_now`` begun at ``started``:
        it is available at that stamp plus the push's computing time (stream time)."""
        now = time.perf_counter()
        available = stamp_now + round(1e9 * (now - started))
        for action in out.actions:
            if keep_outputs:
                run.action_scores.append((action.newest.stamp_ns, action.smoothed))
                run.action_available_ns.append(available)
            if sink is not None:
                sink.action(action_msg(action, card, DEFAULTS["action_top_k"]))
        for pose in out.poses:
            stamp = pose.frame.stamp_ns
            frame = take_in_order(pushed, stamp)
            if frame.undistort is not None:
                pose = replace(pose, joints2d=frame.undistort.to_raw(pose.joints2d))
            prediction = PosePrediction(
                pose.joints3d, pose.joints2d.astype(np.float32), int(pose.object_probs.argmax())
            )
            run.add_pose(stamp, prediction)
            run.latencies_ms.append(1000 * (now - frame.started))
            if keep_outputs:
                run.pose_available_ns[stamp] = available
            if sink is not None:
                sink.hands(hand_poses_msg(pose, card, frame.size))

    progress = Progress("htt-replay", recording.frame_count)
    start = time.perf_counter()
    for topic, msgtype, log_ns, cdr in recording.messages():
        if sink is not None:
            sink.input_message(topic, msgtype, log_ns, cdr)
        msg = recording.deserialize(topic, cdr)
        if topic == recording.camera_info_topic:
            camera.update(msg)
            continue
        rgb = compressed_msg_to_rgb(msg) if recording.compressed else image_msg_to_rgb(msg)
        size = (rgb.shape[1], rgb.shape[0])
        answer = camera.for_image(*size, 0.0, 0.0, 0.0, rectification, card.decoding.frame)
        if answer.k is None:
            raise BagError(
                f"{recording.path}: an image comes before any valid "
                f"{recording.camera_info_topic} message; give --hfov DEG or --camera-info "
                f"FILE.yaml to replay it"
            )
        stamp = header_ns(msg)
        started = time.perf_counter()
        pushed[stamp] = _Pushed(started, size, answer.undistort)
        if answer.undistort is not None:
            rgb = answer.undistort.image(rgb)
        collect(pipeline.push(rgb, stamp, answer.k, tag=msg.header), stamp, started)
        run.frames_sent += 1
        progress.update()
    progress.close()
    if run.frames_sent:
        collect(pipeline.flush(), stamp, time.perf_counter())
    run.wall_s = time.perf_counter() - start
    run.details["resets"] = pipeline.resets
    run.details["frames_processed"] = pipeline.frames_processed
    return run


def take_in_order(pending: dict[int, T], stamp: int) -> T:
    """What ``pending`` holds for the frame stamped ``stamp``, dropping the frames added before
    it: poses come out in the order their frames went in, so those were skipped by the rate
    adaptation or dropped and never get one (memory stays bounded over long recordings)."""
    while (first := next(iter(pending))) != stamp:
        del pending[first]
    return pending.pop(stamp)
