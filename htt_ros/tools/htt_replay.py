"""``htt-replay MODEL INPUT``: a model folder over a recording (any rosbag2 bag, a single
storage file, a video, a folder of images), offline or through the node; scored against the
ground truth when the input is a bag from htt-make-bag."""

import argparse
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from htt_ros.bags.bag_io import check_new_bag
from htt_ros.bags.evaluation import (
    ReplayRun,
    check_labels,
    evaluate,
    read_ground_truth,
    write_report,
)
from htt_ros.bags.output_sink import OutputSink
from htt_ros.bags.paper_protocol import run_paper
from htt_ros.bags.predictions_file import FILE_NAME as PREDICTIONS
from htt_ros.bags.recording import Recording, open_recording
from htt_ros.bags.replay import DEFAULTS, run_offline
from htt_ros.bags.replay_outputs import ReplayOutputs
from htt_ros.bags.streaming_protocol import (
    PROTOCOLS,
    default_lags,
    streaming_scores,
    write_streaming_report,
)
from htt_ros.engines.loader import BACKENDS, LoadedModel, load_model
from htt_ros.errors import UserError
from htt_ros.ros.parameters import IMAGE_FITS, RECTIFICATIONS
from htt_ros.streaming.pipeline import MODES, StreamingConfig
from htt_ros.tools.cli import (
    non_negative_int,
    positive_float,
    positive_int,
    refuses_in_one_line,
    writable_file,
    writable_folder,
)


def get_args_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="htt-replay",
        description="Run a model folder over a recording (a rosbag2 bag, a .mcap or .db3 file, "
        "a video, a folder of images): latency and throughput, and on a bag from htt-make-bag "
        "accuracy against its ground truth, written as a report folder.",
    )
    parser.add_argument("model", type=Path, help="model folder (model.json, pose_step.onnx, ...)")
    parser.add_argument(
        "input",
        type=Path,
        help="rosbag2 folder (mcap or sqlite3, split or without metadata.yaml), a .mcap or .db3 "
        "file, a video file (mp4, mkv, mov, avi, ...) or a folder of images (with --fps)",
    )
    # * Input: the camera and its intrinsics
    parser.add_argument(
        "--image-topic",
        default=None,
        help="the bag's camera topic, when it has several (default: its one "
        "sensor_msgs/Image or CompressedImage topic)",
    )
    parser.add_argument(
        "--camera-info-topic",
        default=None,
        help="the bag's CameraInfo topic (default: <namespace>/camera_info of the image topic)",
    )
    parser.add_argument(
        "--hfov",
        type=positive_float,
        default=None,
        metavar="DEG",
        help="horizontal field of view of an ideal camera: the intrinsics of a video, of "
        "images, or of a bag without CameraInfo (replaces the bag's CameraInfo)",
    )
    parser.add_argument(
        "--camera-info",
        type=Path,
        default=None,
        metavar="FILE.yaml",
        help="camera_calibration YAML (as camera_info_manager reads): the intrinsics of a "
        "video, of images, or of a bag without CameraInfo (replaces the bag's CameraInfo)",
    )
    parser.add_argument(
        "--fps",
        type=positive_float,
        default=None,
        help="frame rate of a folder of images (stamps i/fps)",
    )
    parser.add_argument(
        "--mode",
        choices=("offline", "live"),
        default="offline",
        help="offline: pipeline in this process; live: the node in its own process "
        "(default: offline)",
    )
    parser.add_argument(
        "--rate",
        type=positive_float,
        default=1.0,
        help="live play speed, x recorded (default: 1.0)",
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="report folder (default: <input>_report_<mode>)"
    )
    parser.add_argument(
        "--backend", choices=BACKENDS, default="onnxruntime", help="(default: onnxruntime)"
    )
    parser.add_argument(
        "--threads",
        type=non_negative_int,
        default=0,
        help="inference threads, 0 = all but one (default: 0)",
    )
    # * Pipeline: the node's parameters, same defaults in both modes
    parser.add_argument(
        "--stream-mode", choices=MODES, default=DEFAULTS["mode"], help="(default: %(default)s)"
    )
    parser.add_argument(
        "--lag", type=non_negative_int, default=DEFAULTS["lag"], help="(default: %(default)s)"
    )
    parser.add_argument(
        "--image-fit",
        choices=IMAGE_FITS,
        default=DEFAULTS["image_fit"],
        help="frames of another aspect ratio than the model's (default: %(default)s)",
    )
    parser.add_argument(
        "--rectification",
        choices=RECTIFICATIONS,
        default=DEFAULTS["rectification"],
        help="how camera_info's distortion is handled (default: %(default)s)",
    )
    parser.add_argument(
        "--action-stride",
        type=positive_int,
        default=DEFAULTS["action_stride"],
        help="(default: %(default)s)",
    )
    parser.add_argument(
        "--action-smoothing",
        type=positive_int,
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
    parser.add_argument(
        "--protocol",
        choices=PROTOCOLS,
        default=None,
        help="paper: the authors' offline test-time computation (both parities, aligned clips, "
        "summed clip probabilities); streaming: segment and sliding at each of --lags, every "
        "output scored when published, with a table and an accuracy/latency figure "
        "(default: one run with the pipeline options below)",
    )
    parser.add_argument(
        "--lags",
        type=_lags,
        default=None,
        metavar="L,L,...",
        help="sliding lags of --protocol streaming (default: 0, t/4, t/2 and t-1)",
    )
    parser.add_argument("--quiet", action="store_true", help="do not print the summary")
    # * Outputs beyond the report folder's predictions.jsonl
    parser.add_argument(
        "--out-bag",
        type=Path,
        default=None,
        metavar="DIR",
        help="write an MCAP rosbag2 with the node's topics (/hands, /action, /labels, /markers) "
        "at the input's log times, and the input's camera topics",
    )
    parser.add_argument(
        "--no-copy-input",
        action="store_true",
        help="leave the input's camera topics out of --out-bag",
    )
    parser.add_argument(
        "--annotated", action="store_true", help="add /annotated images to --out-bag"
    )
    parser.add_argument(
        "--annotated-video",
        type=Path,
        default=None,
        metavar="FILE.mp4",
        help="write every input frame with the skeleton, object and action drawn",
    )
    return parser


def check_outputs(args: argparse.Namespace) -> None:
    """:raises UserError: for output flags that cannot be honoured, before any long work."""
    asked = [f for f in ("out_bag", "annotated_video") if getattr(args, f) is not None]
    if asked and args.protocol is not None:
        name = "--" + asked[0].replace("_", "-")
        raise UserError(
            f"{name} writes the outputs of one run, and --protocol {args.protocol} makes "
            f"others; drop --protocol or {name}"
        )
    for flag in ("annotated", "no_copy_input"):
        if getattr(args, flag) and args.out_bag is None:
            name = "--" + flag.replace("_", "-")
            raise UserError(f"{name} needs --out-bag; add --out-bag DIR or drop {name}")
    if args.out_bag is not None:
        check_new_bag(args.out_bag)
        writable_folder(args.out_bag.parent, "output bag")
    if args.annotated_video is not None:
        writable_file(args.annotated_video)
        if args.annotated_video.suffix.lower() != ".mp4":
            raise UserError(
                f"--annotated-video {args.annotated_video} does not end in .mp4; give a .mp4 "
                f"file (written with the mp4v codec)"
            )


def make_sink(args: argparse.Namespace, out: Path, model: LoadedModel) -> ReplayOutputs:
    """The one place where the replay's outputs are made: predictions.jsonl into the report
    folder ``out``, and the output bag and annotated video when asked."""
    return ReplayOutputs(
        out,
        model.card,
        args.model.name,
        out_bag=args.out_bag,
        copy_input=not args.no_copy_input,
        annotated=args.annotated,
        video=args.annotated_video,
    )


def _lags(text: str) -> list[int]:
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"comma-separated integers such as 0,4,8,15, got {text!r}"
        ) from None


@refuses_in_one_line
def main(argv: Sequence[str] | None = None) -> int:
    parser = get_args_parser()
    args = parser.parse_args(argv)
    if bad := [p for p in args.node_param if ":=" not in p]:
        parser.error(f"argument --node-param: expected NAME:=VALUE, got {bad[0]!r}")
    if args.protocol == "paper" and args.mode == "live":
        raise UserError(
            "--protocol paper runs offline only (it needs the future of every window); "
            "drop --mode live"
        )
    name = args.mode if args.protocol is None else f"{args.protocol}_{args.mode}"
    stem = args.input.stem if args.input.is_file() else args.input.name
    out = writable_folder(args.out or args.input.with_name(f"{stem}_report_{name}"), "report")
    check_outputs(args)
    config = StreamingConfig(
        mode=args.stream_mode,
        lag=args.lag,
        action_stride=args.action_stride,
        action_smoothing=args.action_smoothing,
        max_gap_s=DEFAULTS["max_gap_s"],
        fit=args.image_fit,
    )
    recording = open_recording(
        args.input, args.image_topic, args.camera_info_topic, args.hfov, args.camera_info, args.fps
    )
    if recording.cut_off:
        print(
            f"htt-replay: warning: {args.input} was cut off (its recording did not end "
            f"cleanly); replaying up to its last whole message, {recording.message_count} "
            f"messages read",
            file=sys.stderr,
            flush=True,
        )
    truth = read_ground_truth(args.input) if recording.has_ground_truth else None
    if truth is None and args.protocol is not None:
        raise UserError(
            f"--protocol {args.protocol} scores against ground truth, and {args.input} has "
            f"none (htt-make-bag's /ground_truth topics); drop --protocol, or replay a bag "
            f"written by htt-make-bag"
        )
    model = load_model(args.model, args.backend, threads=args.threads)
    window = model.card.window
    if args.lag >= window:
        raise UserError(
            f"--lag {args.lag} is beyond the model's pose window of {window} frames; "
            f"pass --lag 0 to {window - 1}"
        )
    if truth is not None:
        check_labels(truth, model.card)
    where = {"model": str(args.model), "input": str(args.input), "backend": args.backend}
    if args.protocol == "paper":
        run = run_paper(model, recording, truth)
    elif args.protocol == "streaming":
        lags = default_lags(window) if args.lags is None else args.lags
        if bad := [lag for lag in lags if not 0 <= lag < window]:
            raise UserError(
                f"--lags {bad} outside [0, {window - 1}] (the model's window t={window}); "
                f"give lags in that range"
            )
        configs = [replace(config, mode="segment", lag=0)]
        configs += [replace(config, mode="sliding", lag=lag) for lag in lags]
        runs = [replay(args, model, recording, c) for c in configs]
        summary = write_streaming_report(out, runs, truth, where)
    else:
        sink = make_sink(args, out, model)
        try:
            run = replay(args, model, recording, config, sink, keep_outputs=truth is not None)
        finally:
            sink.close()  # what came so far stays readable, also after a refusal mid-run
    if args.protocol != "streaming":
        report, curves = evaluate(run, truth, len(model.card.labels.actions))
        report |= where | {"protocol": args.protocol or "single"}
        if args.protocol is None and truth is not None:
            report |= streaming_scores(run, truth)
        predictions = out / PREDICTIONS if args.protocol is None else None
        summary = write_report(
            out, report, curves, run, truth, args.input, recording.image_topic, predictions
        )
    if not args.quiet:
        print(summary)
        print(f"report: {out}")
        written = {"output bag": args.out_bag, "annotated video": args.annotated_video}
        for what, path in written.items():
            if path is not None:
                print(f"{what}: {path}")
    return 0


def replay(
    args: argparse.Namespace,
    model: LoadedModel,
    recording: Recording,
    config: StreamingConfig,
    sink: OutputSink | None = None,
    keep_outputs: bool = True,
) -> ReplayRun:
    """One replay of the recording through the pipeline (offline) or the node (live); the run
    keeps each output only with ``keep_outputs`` (to score them against ground truth)."""
    if args.mode == "offline":
        run = run_offline(model, recording, config, args.rectification, sink, keep_outputs)
    else:
        from htt_ros.bags.live import run_live

        params = [
            f"backend:={args.backend}",
            f"threads:={args.threads}",
            f"mode:={config.mode}",
            f"lag:={config.lag}",
            f"action_stride:={config.action_stride}",
            f"action_smoothing:={config.action_smoothing}",
            f"image_fit:={config.fit}",
            f"rectification:={args.rectification}",
            *args.node_param,
        ]
        actions = len(model.card.labels.actions)
        run = run_live(args.model, recording, actions, args.rate, params, sink, keep_outputs)
    run.details |= {"stream_mode": config.mode, "lag": config.lag}
    return run


if __name__ == "__main__":
    sys.exit(main())
