"""The one-command demo: the whole product on a CPU, with nothing downloaded.

    python -m training.demo            (scripts/demo.sh installs everything first)

1. synthesise a small egocentric data set (FPHA layout, htt_ros.data.synthetic);
2. train HTT on it with ``training/configs/synthetic.yaml`` (a few minutes on a CPU);
3. export the checkpoint to a model folder, which becomes the node's built-in default model;
4. make a rosbag of the held-out sequences (htt-make-bag);
5. run ``htt_node`` live on that bag (htt-replay --mode live) and print the accuracy and latency
   table, next to a constant-mean-pose baseline and chance.

Each step keeps its result under ``$HTT_ROS_HOME/demo`` (default ``~/.cache/htt_ros/demo``) and
is skipped when that result exists, so a second run reuses the first one's work (an interrupted
training resumes). ``--checkpoint`` and ``--bag`` replace the synthetic ones with real ones.
"""

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import yaml

from htt_ros.data import load_fpha, write_dataset
from htt_ros.demo_model import default_model_dir
from htt_ros.metrics import hand_pose_metrics

REPO = Path(__file__).resolve().parents[1]
CONFIG = REPO / "training" / "configs" / "synthetic.yaml"
DATA = {"sequences": 192, "frames": 48, "subjects": 4, "seed": 0}


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


def main(argv: list[str] | None = None) -> int:
    args = get_args_parser().parse_args(argv)
    home = Path(os.environ.get("HTT_ROS_HOME", Path.home() / ".cache" / "htt_ros")).expanduser()
    work = args.workdir or home / "demo"
    work.mkdir(parents=True, exist_ok=True)
    data, run_dir, bag = work / "data", work / "run", args.bag or work / "test_bag"
    model = default_model_dir() if args.checkpoint is None else work / "model_from_checkpoint"
    started = time.monotonic()

    if args.checkpoint is None:
        if not (data / "htt_synth_done").is_file():
            t0 = step(f"synthesising {args.sequences} sequences into {data}")
            sizes = DATA | {"sequences": args.sequences, "frames": args.frames}
            write_dataset(data, "fpha", workers=2, **sizes)
            (data / "htt_synth_done").write_text("ok\n")
            print(f"done in {time.monotonic() - t0:.0f} s")
        checkpoint = run_dir / "checkpoint.pth"
        if not (run_dir / "finished").is_file():
            t0 = step(f"training on the CPU ({args.config}) into {run_dir}")
            resume = ["--resume"] if checkpoint.is_file() else ["--config", str(args.config)]
            run("training.train", *resume, "--data", str(data), "--out", str(run_dir))
            (run_dir / "finished").write_text("ok\n")
            print(f"done in {time.monotonic() - t0:.0f} s")
    else:
        checkpoint = args.checkpoint
    if not (model / "model.json").is_file():
        step(f"exporting {checkpoint} to the model folder {model}")
        width, height = yaml.safe_load(args.config.read_text())["data"]["image_size"]
        size = [] if args.checkpoint else ["--input-size", str(width), str(height)]
        run("htt_ros.export.cli", str(checkpoint), str(model), *size)
    if args.bag is None and not (bag / "metadata.yaml").is_file():
        step(f"writing the held-out sequences to the bag {bag}")
        run("htt_ros.bags.make_bag", str(data), str(bag), "--layout", "fpha", "--split", "test")

    step("running htt_node live on the bag")
    report = work / "report"
    run(
        "htt_ros.bags.replay",
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
