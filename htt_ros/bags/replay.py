"""``htt-replay``: evaluate a model folder on a bag from ``htt-make-bag``.

- ``--mode offline`` reads the bag and pushes every frame through the streaming pipeline in this
  process: deterministic, as fast as the backend allows; latency is the time from pushing a
  frame to its pose coming out.
- ``--mode live`` runs ``htt_node`` as its own process and plays the bag into it at the
  recorded timing (``--rate``), with /clock for ``use_sim_time`` (see :mod:`htt_ros.bags.live`).

Both score the outputs against the bag's ground truth (:mod:`htt_ros.bags.evaluation`) and write
``report.json``, ``summary.txt`` and PNG figures (pck, confusion, latency, frames) to ``--out``.
"""

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from htt_ros.bags.bag_io import CAMERA_INFO_TOPIC, BagError, BagInfo, bag_info, read_messages
from htt_ros.bags.bag_io import stamp_ns as header_ns
from htt_ros.bags.evaluation import (
    PosePrediction,
    ReplayRun,
    check_labels,
    evaluate,
    read_ground_truth,
    write_report,
)
from htt_ros.engines.base import EngineError
from htt_ros.engines.loader import BACKENDS, LoadedModel, load_model
from htt_ros.model_card import ModelCardError
from htt_ros.parameters import PARAMETERS
from htt_ros.ros.image_conversion import compressed_msg_to_rgb, image_msg_to_rgb
from htt_ros.streaming.pipeline import MODES, StreamingConfig, StreamingPipeline
from htt_ros.streaming.results import StepOutput

DEFAULTS = {p.name: p.default for p in PARAMETERS}  # the node's defaults, shared by both modes


def run_offline(
    model: LoadedModel, bag: Path, info: BagInfo, config: StreamingConfig
) -> ReplayRun:
    """Every image of ``bag`` through a fresh pipeline, in order, with the latest CameraInfo."""
    pipeline = StreamingPipeline(model.card, model.pose_step, model.action, config)
    run = ReplayRun("offline")
    pushed_at: dict[int, float] = {}
    intrinsics = None

    def collect(out: StepOutput) -> None:
        now = time.perf_counter()
        for pose in out.poses:
            stamp = pose.frame.stamp_ns
            run.poses[stamp] = PosePrediction(
                pose.joints3d, pose.joints2d, int(pose.object_probs.argmax())
            )
            run.latencies_ms.append(1000 * (now - pushed_at.pop(stamp)))
        run.action_scores += [(a.newest.stamp_ns, a.smoothed) for a in out.actions]

    start = time.perf_counter()
    for topic, _, msg in read_messages(bag, [info.image_topic, CAMERA_INFO_TOPIC]):
        if topic == CAMERA_INFO_TOPIC:
            intrinsics = np.array(msg.k, dtype=float).reshape(3, 3)
            continue
        if intrinsics is None:
            raise BagError(f"{bag}: an image comes before any {CAMERA_INFO_TOPIC} message")
        rgb = compressed_msg_to_rgb(msg) if info.compressed else image_msg_to_rgb(msg)
        stamp = header_ns(msg)
        pushed_at[stamp] = time.perf_counter()
        collect(pipeline.push(rgb, stamp, intrinsics))
        run.frames_sent += 1
    collect(pipeline.flush())
    run.wall_s = time.perf_counter() - start
    run.details["resets"] = pipeline.resets
    run.details["frames_processed"] = pipeline.frames_processed
    return run


def get_args_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="htt-replay",
        description="Evaluate a model folder on a bag written by htt-make-bag: accuracy against "
        "the bag's ground truth, latency and throughput, written as a report folder.",
    )
    parser.add_argument("model", type=Path, help="model folder (model.json, pose_step.onnx, ...)")
    parser.add_argument("bag", type=Path, help="rosbag2 folder from htt-make-bag")
    parser.add_argument(
        "--mode",
        choices=("offline", "live"),
        default="offline",
        help="offline: pipeline in this process; live: the node in its own process "
        "(default: offline)",
    )
    parser.add_argument(
        "--rate", type=float, default=1.0, help="live play speed, x recorded (default: 1.0)"
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="report folder (default: <bag>_report_<mode>)"
    )
    parser.add_argument(
        "--backend", choices=BACKENDS, default="onnxruntime", help="(default: onnxruntime)"
    )
    parser.add_argument(
        "--threads", type=int, default=0, help="inference threads, 0 = all but one (default: 0)"
    )
    # * Pipeline: the node's parameters, same defaults in both modes
    parser.add_argument(
        "--stream-mode", choices=MODES, default=DEFAULTS["mode"], help="(default: %(default)s)"
    )
    parser.add_argument("--lag", type=int, default=DEFAULTS["lag"], help="(default: %(default)s)")
    parser.add_argument(
        "--action-stride",
        type=int,
        default=DEFAULTS["action_stride"],
        help="(default: %(default)s)",
    )
    parser.add_argument(
        "--action-smoothing",
        type=int,
        default=DEFAULTS["action_smoothing"],
        help="(default: %(default)s)",
    )
    parser.add_argument(
        "--node-param",
        action="append",
        default=[],
        metavar="NAME:=VALUE",
        help="further node parameter for live mode (repeatable)",
    )
    parser.add_argument("--quiet", action="store_true", help="do not print the summary")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = get_args_parser().parse_args(argv)
    if args.rate <= 0:
        print(f"htt-replay: --rate must be > 0, got {args.rate}", file=sys.stderr)
        return 2
    out = args.out or args.bag.with_name(f"{args.bag.name}_report_{args.mode}")
    config = StreamingConfig(
        mode=args.stream_mode,
        lag=args.lag,
        action_stride=args.action_stride,
        action_smoothing=args.action_smoothing,
        max_gap_s=DEFAULTS["max_gap_s"],
    )
    try:
        info = bag_info(args.bag)
        truth = read_ground_truth(args.bag)
        model = load_model(args.model, args.backend, threads=args.threads)
        check_labels(truth, model.card)
        if args.mode == "offline":
            run = run_offline(model, args.bag, info, config)
        else:
            from htt_ros.bags.live import run_live

            params = [
                f"backend:={args.backend}",
                f"threads:={args.threads}",
                f"mode:={config.mode}",
                f"lag:={config.lag}",
                f"action_stride:={config.action_stride}",
                f"action_smoothing:={config.action_smoothing}",
                *args.node_param,
            ]
            run = run_live(args.model, args.bag, info, len(truth.action_names), args.rate, params)
        report, curves = evaluate(run, truth, len(truth.action_names))
        report |= {"model": str(args.model), "bag": str(args.bag), "backend": args.backend}
        summary = write_report(out, report, curves, run, truth, args.bag, info.image_topic)
    except (BagError, EngineError, ModelCardError) as error:
        print(f"htt-replay: {error}", file=sys.stderr)
        return 2
    if not args.quiet:
        print(summary)
        print(f"report: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
