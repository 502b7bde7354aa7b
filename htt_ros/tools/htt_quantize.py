"""``htt-quantize MODEL_DIR --calibration SOURCE``: int8 graphs of a model folder, and what they
cost in accuracy against fp32.

SOURCE is a rosbag2 folder, a folder of frames or ``synthetic`` (the renderer). The first
``--max-frames`` frames calibrate; the held-out frames (``--held-out SOURCE``, else the frames of
the calibration source after those) run through fp32 and int8: the 3D (mm) and 2D (px) change of
each hand's joints, object and action top-1 agreement are printed and written to model.json
under ``quantization`` (``joint_change_mm``: the mean 3D change over all hands).
``--compare`` does this for every quantizer choice, with pose_step's speed, and keeps
``--choice``.
"""

import argparse
import itertools
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from htt_ros.engines.frame_sources import (
    SYNTHETIC,
    CalibrationError,
    SourceFrame,
    describe_source,
    open_source,
)
from htt_ros.engines.int8_accuracy import compare, run_models
from htt_ros.engines.loader import GRAPHS, load_model
from htt_ros.engines.onnxruntime_backend import OnnxRuntimeRunner
from htt_ros.engines.quantize import CHOICES, DEFAULT_CHOICE, quantize_folder, record_feeds
from htt_ros.model_card import ModelCard, Quantization
from htt_ros.progress import Progress
from htt_ros.tools.cli import positive_int, refuses_in_one_line

CALIBRATION_SEED, HELD_OUT_SEED = 1, 2  # the renderer's: neither is the demo's training data


def get_args_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="htt-quantize", description=__doc__.split("\n\n")[0])
    parser.add_argument("model_dir", type=Path, help="model folder made by htt-export")
    parser.add_argument(
        "--calibration",
        required=True,
        metavar="SOURCE",
        help=f"frames to calibrate on: a rosbag2 folder, a folder of frames (jpg/png, in time "
        f"order) or '{SYNTHETIC}' (the renderer); best from the target camera",
    )
    parser.add_argument(
        "--held-out",
        metavar="SOURCE",
        default=None,
        help="frames to measure int8 against fp32 on (default: the calibration source's frames "
        "after the calibration ones)",
    )
    parser.add_argument(
        "--max-frames",
        type=positive_int,
        default=200,
        help="calibration frames to use at most (default: 200)",
    )
    parser.add_argument(
        "--held-out-frames",
        type=positive_int,
        default=240,
        help="held-out frames to measure on at most (default: 240)",
    )
    parser.add_argument(
        "--choice",
        choices=CHOICES,
        default=DEFAULT_CHOICE,
        help=f"how pose_step is quantized (default: {DEFAULT_CHOICE}; --compare lists them)",
    )
    parser.add_argument(
        "--compare",
        action="store_true",
        help="measure every choice (accuracy and pose_step speed), then keep --choice",
    )
    return parser


@refuses_in_one_line
def main(argv: list[str] | None = None) -> int:
    args = get_args_parser().parse_args(argv)
    start = time.monotonic()
    card = ModelCard.load(args.model_dir)  # before reading any frame
    layout = "fpha" if len(card.hands) == 1 else "h2o"
    describe_source(args.calibration)
    if args.held_out is not None:
        describe_source(args.held_out)
    calibration = itertools.islice(
        open_source(args.calibration, layout, CALIBRATION_SEED), args.max_frames
    )
    counter = Progress("htt-quantize: calibration", args.max_frames)
    feeds = record_feeds(args.model_dir, counter.iterate(calibration))
    calibrated = counter.count

    def held_out() -> Iterator[SourceFrame]:
        if args.held_out is not None:
            source = open_source(args.held_out, layout, HELD_OUT_SEED)
            return itertools.islice(source, args.held_out_frames)
        source = open_source(args.calibration, layout, CALIBRATION_SEED)
        return itertools.islice(source, args.max_frames, args.max_frames + args.held_out_frames)

    (fp32,) = run_models([load_model(args.model_dir, precision="fp32")], held_out())
    if not fp32.joints3d:
        raise CalibrationError(
            f"no held-out frames: {args.calibration} has no frames after the {args.max_frames} "
            f"calibration ones; give --held-out SOURCE or a lower --max-frames"
        )
    choices = [c for c in CHOICES if c != args.choice] + [args.choice] if args.compare else []
    rows = []
    with tempfile.TemporaryDirectory() as kept:
        graphs = {"fp32": args.model_dir / card.graphs["pose_step"].file}
        for choice in choices or [args.choice]:
            int8_card = quantize_folder(args.model_dir, feeds, choice)
            (int8,) = run_models([load_model(args.model_dir, precision="int8")], held_out())
            numbers = compare(fp32, int8, card.hands)
            if args.compare:
                graphs[choice] = Path(kept) / f"{choice}.onnx"
                int8_file = int8_card.extra["int8"]["pose_step"]["file"]
                shutil.copy(args.model_dir / int8_file, graphs[choice])
                rows.append((choice, numbers))
        speeds = pose_step_ms(card, graphs) if args.compare else {}
    card = ModelCard.load(args.model_dir)
    quantization = Quantization(
        **numbers,
        choice=args.choice,
        calibration={"source": args.calibration, "frames": calibrated},
        held_out={"source": args.held_out or args.calibration, "frames": len(fp32.joints3d)},
    )
    replace(card, quantization=quantization).write(args.model_dir)
    if rows:
        print(compare_table(rows, speeds))
    print(accuracy_table(quantization))
    files = ", ".join(card.extra["int8"][name]["file"] for name in GRAPHS)
    print(
        f"wrote {files} ({args.choice}) and model.json's quantization in {args.model_dir} "
        f"from {calibrated} calibration frames in {time.monotonic() - start:.1f} s; run with "
        f"precision int8"
    )
    return 0


def pose_step_ms(card: ModelCard, graphs: dict[str, Path], repeats: int = 9) -> dict:
    """Median milliseconds of one run of each pose_step graph (default threads), timed in turn
    so that a busy machine slows them alike."""
    from htt_ros.tools.htt_bench import step_feeds

    feeds = step_feeds(card)
    runners = {name: OnnxRuntimeRunner(path) for name, path in graphs.items()}
    times: dict[str, list[float]] = {name: [] for name in runners}
    for _ in range(repeats + 1):  # the first round warms up
        for name, runner in runners.items():
            start = time.perf_counter()
            runner.run(feeds)
            times[name].append(1000 * (time.perf_counter() - start))
    return {name: statistics.median(t[1:]) for name, t in times.items()}


def accuracy_table(q: Quantization) -> str:
    lines = [
        f"int8 against fp32 on {q.held_out['frames']} held-out frames of {q.held_out['source']}:",
        f"{'hand':>8} {'3D mean':>9} {'p95':>7} {'max':>7} {'2D mean':>9} {'p95':>6} {'max':>6}",
    ]
    for name, h in q.hands.items():
        lines.append(
            f"{name:>8} {h.mean_mm:6.2f} mm {h.p95_mm:7.2f} {h.max_mm:7.2f} "
            f"{h.mean_px:6.2f} px {h.p95_px:6.2f} {h.max_px:6.2f}"
        )
    action = "-" if q.action_agreement is None else f"{100 * q.action_agreement:.1f} %"
    lines.append(
        f"joint_change_mm {q.joint_change_mm:.3f}; top-1 agreement: object "
        f"{100 * q.object_agreement:.1f} %, action {action}"
    )
    return "\n".join(lines)


def compare_table(rows: list, speeds: dict[str, float]) -> str:
    lines = [
        f"{'choice':>16} {'3D mean':>9} {'p95':>7} {'max':>7} {'object':>7} {'pose_step':>10}",
        f"{'fp32':>16} {'':>9} {'':>7} {'':>7} {'':>7} {speeds['fp32']:7.2f} ms",
    ]
    for choice, n in rows:
        p95 = max(h.p95_mm for h in n["hands"].values())
        worst = max(h.max_mm for h in n["hands"].values())
        lines.append(
            f"{choice:>16} {n['joint_change_mm']:6.2f} mm {p95:7.2f} {worst:7.2f} "
            f"{100 * n['object_agreement']:6.1f}% {speeds[choice]:7.2f} ms"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
