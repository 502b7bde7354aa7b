"""The one-command demo: the whole product on a CPU, with nothing downloaded.

    python -m training.demo            (scripts/demo.sh installs everything first)

1. synthesise a small egocentric data set (FPHA layout, htt_ros.data.synthetic);
2. train HTT on it with ``training/configs/synthetic.yaml`` (a few minutes on a CPU);
3. make a rosbag of the held-out sequences (htt-make-bag);
4. export the checkpoint to a model folder, which becomes the node's built-in default model;
5. run ``htt_node`` live on that bag (htt-replay --mode live) and print the accuracy and latency
   table, next to a constant-mean-pose baseline and chance.

Each step keeps its result under ``$HTT_ROS_HOME/demo`` (default ``~/.cache/htt_ros/demo``) and
is skipped when it was made from the same inputs (data sizes, config, htt_ros's decoding frame,
checkpoint), so a second run reuses the first one's work (an interrupted training resumes).
``--checkpoint`` and ``--bag`` replace the synthetic ones with real ones.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import yaml

from htt_ros.data import load_fpha, write_dataset
from htt_ros.demo_model import default_model_dir
from htt_ros.geometry import POSE_FRAME
from htt_ros.metrics import hand_pose_metrics
from htt_ros.model_card import ModelCard, ModelCardError, sha256_file

REPO = Path(__file__).resolve().parents[1]
CONFIG = REPO / "training" / "configs" / "synthetic.yaml"
DATA = {"sequences": 480, "frames": 24, "subjects": 4, "seed": 0}
BAG_GAP_S = 0.6  # between sequences: above the node's max_gap_s (0.5 s), so it resets


def step(text: str) -> float:
    print(f"\n==> {text}", flush=True)
    return time.monotonic()


def run(*args: str) -> None:
    """Run a python module of this checkout; stop the demo if it fails."""
    command = [sys.executable, "-m", *args]
    if subprocess.run(command, cwd=REPO).returncode != 0:
        sys.exit(f"demo stopped: `{' '.join(command[2:])}` failed (see above)")


def baseline_mepe_mm(data: Path) -> float:
    """MEPE of always answering the training set's mean pose, on the test frames."""
    train, test = load_fpha(data, "train"), load_fpha(data, "test")
    mean_pose = np.concatenate([s.joints3d for s in train]).mean(axis=0)
    truth = np.concatenate([s.joints3d for s in test])
    metrics = hand_pose_metrics(np.broadcast_to(mean_pose, truth.shape), truth)
    return 1000 * metrics["joints3d"].mepe


def get_args_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--workdir",
        type=Path,
        default=None,
        help="where results are kept (default: $HTT_ROS_HOME/demo)",
    )
    parser.add_argument(
        "--checkpoint",
        type=Path,
        default=None,
        help="export this checkpoint (the authors' or yours) instead of training",
    )
    parser.add_argument(
        "--bag",
        type=Path,
        default=None,
        help="replay this bag (from htt-make-bag) instead of the synthetic one",
    )
    parser.add_argument("--rate", type=float, default=1.0, help="bag play rate (1.0)")
    parser.add_argument(
        "--config",
        type=Path,
        default=CONFIG,
        help="training config (default: training/configs/synthetic.yaml)",
    )
    parser.add_argument(
        "--sequences",
        type=int,
        default=DATA["sequences"],
        help=f"synthetic sequences to make (default: {DATA['sequences']})",
    )
    parser.add_argument(
        "--frames",
        type=int,
        default=DATA["frames"],
        help=f"frames per synthetic sequence (default: {DATA['frames']})",
    )
    return parser


def clear_if_stale(folder: Path, marker: Path, stamp: str) -> bool:
    """Whether ``marker`` records that ``folder`` was made from the inputs ``stamp`` describes;
    when it records other inputs, ``folder`` is removed to be made again."""
    if not marker.is_file():
        return False
    if marker.read_text() == stamp:
        return True
    print(f"{folder} was made from other inputs or by another htt_ros version; making it again")
    shutil.rmtree(folder, ignore_errors=True)
    marker.unlink(missing_ok=True)
    return False


def exported_from(folder: Path, checkpoint: Path) -> bool:
    """Whether ``folder`` is a model folder this htt_ros reads, exported from ``checkpoint``."""
    try:
        card = ModelCard.load(folder)
    except ModelCardError:
        return False
    return card.provenance.get("checkpoint_sha256") == sha256_file(checkpoint)


def synthetic_run(args: argparse.Namespace, work: Path, bag: Path) -> Path:
    """Synthesise the data, train on it and write the test bag (each reused when made from
    the same inputs); returns the checkpoint."""
    data, run_dir = work / "data", work / "run"
    sizes = DATA | {"sequences": args.sequences, "frames": args.frames}
    data_stamp = json.dumps(sizes, sort_keys=True) + "\n"
    if not clear_if_stale(data, data / "htt_synth_done", data_stamp):
        t0 = step(f"synthesising {args.sequences} sequences into {data}")
        write_dataset(data, "fpha", workers=2, **sizes)
        (data / "htt_synth_done").write_text(data_stamp)
        print(f"done in {time.monotonic() - t0:.0f} s")
    checkpoint = run_dir / "checkpoint.pth"
    run_stamp = (
        f"pose frame {POSE_FRAME[0]}x{POSE_FRAME[1]}, config sha256 "
        f"{sha256_file(args.config)}, data {data_stamp}"
    )
    if not clear_if_stale(run_dir, run_dir / "finished", run_stamp):
        t0 = step(f"training on the CPU ({args.config}) into {run_dir}")
        resume = ["--resume"] if checkpoint.is_file() else ["--config", str(args.config)]
        run("training.train", *resume, "--data", str(data), "--out", str(run_dir))
        (run_dir / "finished").write_text(run_stamp)
        print(f"done in {time.monotonic() - t0:.0f} s")
    bag_marker, bag_stamp = work / "test_bag.done", f"gap {BAG_GAP_S} s, data {data_stamp}"
    if args.bag is None and not clear_if_stale(bag, bag_marker, bag_stamp):
        step(f"writing the held-out sequences to the bag {bag}")
        shutil.rmtree(bag, ignore_errors=True)  # an interrupted one
        split = ["--layout", "fpha", "--split", "test"]
        run("htt_ros.tools.htt_make_bag", str(data), str(bag), *split, "--gap", str(BAG_GAP_S))
        bag_marker.write_text(bag_stamp)
    return checkpoint


def main(argv: list[str] | None = None) -> int:
    parser = get_args_parser()
    args = parser.parse_args(argv)
    if args.checkpoint is not None and args.bag is None:
        parser.error(
            "--checkpoint needs --bag: a bag of its data set (htt-make-bag DATA_DIR BAG_DIR)"
        )
    home = Path(os.environ.get("HTT_ROS_HOME", Path.home() / ".cache" / "htt_ros")).expanduser()
    work = args.workdir or home / "demo"
    work.mkdir(parents=True, exist_ok=True)
    data, bag = work / "data", args.bag or work / "test_bag"
    model = default_model_dir() if args.checkpoint is None else work / "model_from_checkpoint"
    started = time.monotonic()

    checkpoint = synthetic_run(args, work, bag) if args.checkpoint is None else args.checkpoint
    if not exported_from(model, checkpoint):
        step(f"exporting {checkpoint} to the model folder {model}")
        width, height = yaml.safe_load(args.config.read_text())["data"]["image_size"]
        size = [] if args.checkpoint else ["--input-size", str(width), str(height)]
        run("htt_ros.tools.htt_export", str(checkpoint), str(model), *size)

    step("running htt_node live on the bag")
    report = work / "report"
    run(
        "htt_ros.tools.htt_replay",
        str(model),
        str(bag),
        "--mode",
        "live",
        "--rate",
        str(args.rate),
        "--out",
        str(report),
    )
    if args.bag is None and args.checkpoint is None:
        labels = load_fpha(data, "test").labels
        print(
            f"\nfor comparison: constant mean pose MEPE {baseline_mepe_mm(data):.1f} mm; "
            f"action chance {100 / len(labels.actions):.1f} %, object chance "
            f"{100 / len(labels.objects):.1f} %"
        )
    print(
        f"report: {report} (report.json, summary.txt, figures); model: {model}; "
        f"demo took {time.monotonic() - started:.0f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
