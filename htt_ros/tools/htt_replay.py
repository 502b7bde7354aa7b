"""``htt-replay MODEL BAG``: evaluate a model folder on a bag from htt-make-bag."""

import argparse
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from htt_ros.bags.bag_io import BagInfo, bag_info, check_new_bag
from htt_ros.bags.evaluation import (
    GroundTruth,
    ReplayRun,
    check_labels,
    evaluate,
    read_ground_truth,
    write_report,
)
from htt_ros.bags.paper_protocol import run_paper
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
        "--rate",
        type=positive_float,
        default=1.0,
        help="live play speed, x recorded (default: 1.0)",
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="report folder (default: <bag>_report_<mode>)"
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
    out = writable_folder(
        args.out or args.bag.with_name(f"{args.bag.name}_report_{name}"), "report"
    )
    config = StreamingConfig(
        mode=args.stream_mode,
        lag=args.lag,
        action_stride=args.action_stride,
        action_smoothing=args.action_smoothing,
        max_gap_s=DEFAULTS["max_gap_s"],
        fit=args.image_fit,
    )
    info = bag_info(args.bag)
    if info.cut_off:
        print(
            f"htt-replay: warning: {args.bag} was cut off (its recording did not end cleanly); "
            f"replaying up to its last whole message, {info.message_count} messages read",
            file=sys.stderr,
            flush=True,
        )
    truth = read_ground_truth(args.bag)
    model = load_model(args.model, args.backend, threads=args.threads)
    window = model.card.window
    if args.lag >= window:
        raise UserError(
            f"--lag {args.lag} is beyond the model's pose window of {window} frames; "
            f"pass --lag 0 to {window - 1}"
        )
    check_labels(truth, model.card)
    where = {"model": str(args.model), "bag": str(args.bag), "backend": args.backend}
    if args.protocol == "paper":
        run = run_paper(model, args.bag, info, truth)
    elif args.protocol == "streaming":
        lags = default_lags(window) if args.lags is None else args.lags
        if bad := [lag for lag in lags if not 0 <= lag < window]:
            raise UserError(
                f"--lags {bad} outside [0, {window - 1}] (the model's window t={window}); "
                f"give lags in that range"
            )
        configs = [replace(config, mode="segment", lag=0)]
        configs += [replace(config, mode="sliding", lag=lag) for lag in lags]
        runs = [replay(args, model, info, truth, c) for c in configs]
        summary = write_streaming_report(out, runs, truth, where)
    else:
        run = replay(args, model, info, truth, config)
    if args.protocol != "streaming":
        report, curves = evaluate(run, truth, len(truth.action_names))
        report |= where | {"protocol": args.protocol or "single"}
        if args.protocol is None:
            report |= streaming_scores(run, truth)
        summary = write_report(out, report, curves, run, truth, args.bag, info.image_topic)
    if not args.quiet:
        print(summary)
        print(f"report: {out}")
    return 0


def replay(
    args: argparse.Namespace,
    model: LoadedModel,
    info: BagInfo,
    truth: GroundTruth,
    config: StreamingConfig,
) -> ReplayRun:
    """One replay of the bag through the pipeline (offline) or the node (live)."""
    if args.mode == "offline":
        run = run_offline(model, args.bag, info, config, args.rectification)
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
        run = run_live(args.model, args.bag, info, len(truth.action_names), args.rate, params)
    run.details |= {"stream_mode": config.mode, "lag": config.lag}
    return run


if __name__ == "__main__":
    sys.exit(main())
