"""``htt-replay``: evaluate a model folder on a bag from ``htt-make-bag``.

- ``--mode offline`` reads the bag and pushes every frame through the streaming pipeline in this
  process: deterministic, as fast as the backend allows; latency is the time from pushing a
  frame to its pose coming out. An output is available (in stream time) at the stamp of the
  frame whose push produced it plus that push's computing time.
- ``--mode live`` runs ``htt_node`` as its own process and plays the bag into it at the
  recorded timing (``--rate``), with /clock for ``use_sim_time`` (see :mod:`htt_ros.bags.live`).

Both score the outputs against the bag's ground truth (:mod:`htt_ros.bags.evaluation`) and write
``report.json``, ``summary.txt`` and PNG figures (pck, confusion, latency, frames) to ``--out``.
"""

import time
from pathlib import Path

import numpy as np

from htt_ros.bags.bag_io import CAMERA_INFO_TOPIC, BagError, BagInfo, read_messages
from htt_ros.bags.bag_io import stamp_ns as header_ns
from htt_ros.bags.evaluation import (
    PosePrediction,
    ReplayRun,
)
from htt_ros.engines.loader import LoadedModel
from htt_ros.progress import Progress
from htt_ros.ros.camera_intrinsics import IntrinsicsSource, Undistortion
from htt_ros.ros.image_conversion import compressed_msg_to_rgb, image_msg_to_rgb
from htt_ros.ros.parameters import PARAMETERS
from htt_ros.streaming.pipeline import StreamingConfig, StreamingPipeline
from htt_ros.streaming.results import StepOutput

DEFAULTS = {p.name: p.default for p in PARAMETERS}  # the node's defaults, shared by both modes


def run_offline(
    model: LoadedModel,
    bag: Path,
    info: BagInfo,
    config: StreamingConfig,
    rectification: str = DEFAULTS["rectification"],
) -> ReplayRun:
    """Every image of ``bag`` through a fresh pipeline, in order, with the latest CameraInfo
    read as the node reads it (ROI, binning, undistortion: :mod:`~htt_ros.ros.camera_intrinsics`).
    """
    pipeline = StreamingPipeline(model.card, model.pose_step, model.action, config)
    run = ReplayRun("offline")
    pushed_at: dict[int, float] = {}
    camera = IntrinsicsSource(CAMERA_INFO_TOPIC, info.image_topic)
    undistorted: dict[int, Undistortion] = {}  # stamp -> how its frame was undistorted

    def collect(out: StepOutput, stamp_now: int, started: float) -> None:
        """``out`` came from the push of the frame stamped ``stamp_now`` begun at ``started``:
        it is available at that stamp plus the push's computing time (stream time)."""
        now = time.perf_counter()
        available = stamp_now + round(1e9 * (now - started))
        for pose in out.poses:
            stamp = pose.frame.stamp_ns
            joints2d = pose.joints2d
            if stamp in undistorted:
                joints2d = undistorted.pop(stamp).to_raw(joints2d)
            run.poses[stamp] = PosePrediction(
                pose.joints3d, joints2d.astype(np.float32), int(pose.object_probs.argmax())
            )
            run.latencies_ms.append(1000 * (now - pushed_at.pop(stamp)))
            run.pose_available_ns[stamp] = available
        run.action_scores += [(a.newest.stamp_ns, a.smoothed) for a in out.actions]
        run.action_available_ns += [available] * len(out.actions)

    progress = Progress("htt-replay", info.counts.get(info.image_topic))
    start = time.perf_counter()
    for topic, _, msg in read_messages(bag, [info.image_topic, CAMERA_INFO_TOPIC]):
        if topic == CAMERA_INFO_TOPIC:
            camera.update(msg)
            continue
        rgb = compressed_msg_to_rgb(msg) if info.compressed else image_msg_to_rgb(msg)
        answer = camera.for_image(
            *rgb.shape[1::-1], 0.0, 0.0, 0.0, rectification, model.card.decoding.frame
        )
        if answer.k is None:
            raise BagError(f"{bag}: an image comes before any valid {CAMERA_INFO_TOPIC} message")
        stamp = header_ns(msg)
        pushed_at[stamp] = started = time.perf_counter()
        if answer.undistort is not None:
            undistorted[stamp] = answer.undistort
            rgb = answer.undistort.image(rgb)
        collect(pipeline.push(rgb, stamp, answer.k), stamp, started)
        run.frames_sent += 1
        progress.update()
    progress.close()
    if run.frames_sent:
        collect(pipeline.flush(), stamp, time.perf_counter())
    run.wall_s = time.perf_counter() - start
    run.details["resets"] = pipeline.resets
    run.details["frames_processed"] = pipeline.frames_processed
    return run
