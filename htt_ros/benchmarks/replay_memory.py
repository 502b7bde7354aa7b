"""Resident memory of ``htt-replay`` over a long recording: it must not grow with its length.

    python -m htt_ros.benchmarks.replay_memory MODEL OUT [--minutes 10] [--size 1280 720]
        [--fps 30] [--layout h2o] [--replay-arg=--backend=onnxruntime ...]

Writes ``OUT/recording.mp4``, MINUTES of rendered synthetic hands at SIZE and FPS (kept when it
exists, so a second measurement reuses it), replays it offline with ``htt-replay MODEL
recording.mp4 --hfov H`` in its own process while sampling that process's resident memory from
/proc every SAMPLE_PERIOD_S, and writes ``OUT/replay_memory.json`` (the samples and their
summary) and ``OUT/replay_memory.png``. It prints the resident memory at the start, end and
peak of the second half of the run (after the pipeline and the ONNX Runtime arenas have warmed
up) and its growth over that half (the median of its last EDGE_S seconds less that of its
first), or that the run was too short to measure.
"""

import argparse
import json
import math
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from htt_ros.benchmarks.process_usage import Usage, sample, summarize
from htt_ros.data import synthetic_labels
from htt_ros.data.synthetic import generate_sequence
from htt_ros.progress import Progress

CLIP_FRAMES = 64  # one rendered sequence; the recording strings different ones together
SAMPLE_PERIOD_S = 0.1  # reading /proc takes microseconds
EDGE_S = 5.0  # growth compares the medians of this long at either end of the second half


def write_recording(
    path: Path, minutes: float, size: tuple[int, int], fps: float, layout: str
) -> float:
    """Render ``minutes`` of synthetic sequences (a new action and seed every CLIP_FRAMES frames)
    at ``size`` (W, H) into the mp4 ``path``; returns the camera's horizontal field of view, deg.
    """
    total = round(minutes * 60 * fps)
    actions = len(synthetic_labels(layout).actions)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
    if not writer.isOpened():
        raise SystemExit(f"replay_memory: OpenCV cannot write {path}")
    hfov = 0.0
    with Progress(f"rendering {path.name}", total) as bar:
        for clip, start in enumerate(range(0, total, CLIP_FRAMES)):
            n = min(CLIP_FRAMES, total - start)
            sequence = generate_sequence(layout, clip % actions, n, seed=clip)
            width = sequence.images.shape[2]
            hfov = math.degrees(2 * math.atan(width / 2 / sequence.intrinsics[0, 0]))
            for rgb in sequence.images:
                writer.write(cv2.cvtColor(cv2.resize(rgb, size), cv2.COLOR_RGB2BGR))
            bar.update(n)
    writer.release()
    return hfov


def measure(model: Path, video: Path, hfov: float, out: Path, replay_args: list[str]) -> dict:
    """Replay ``video`` with htt-replay in its own process, sampling its memory every
    SAMPLE_PERIOD_S."""
    command = [sys.executable, "-m", "htt_ros.tools.htt_replay", str(model), str(video)]
    command += ["--hfov", f"{hfov:.2f}", "--out", str(out / "report"), "--quiet", *replay_args]
    process = subprocess.Popen(command)
    samples: list[Usage] = []
    started = time.time()
    while process.poll() is None:
        if (usage := sample(process.pid)) is not None:
            samples.append(usage)
        time.sleep(SAMPLE_PERIOD_S)
    if process.returncode != 0:
        raise SystemExit(f"replay_memory: htt-replay exited with {process.returncode}")
    wall = time.time() - started
    edge = round(EDGE_S / SAMPLE_PERIOD_S)
    summary = summarize(samples, memory_from=started + wall / 2, edge=edge)
    return {
        "command": command[1:],
        "wall_s": wall,
        "summary": summary,
        "samples": [[s.t - started, s.cpu_s, s.rss_mb] for s in samples],
    }


def plot(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    samples = np.array(result["samples"]).reshape(-1, 3)
    fig, ax = plt.subplots(figsize=(8, 3.5))
    ax.plot(samples[:, 0], samples[:, 2])
    ax.set_xlabel("time since htt-replay started, s")
    ax.set_ylabel("resident memory, MiB")
    ax.set_title(f"htt-replay on {result['recording']}")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def get_args_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m htt_ros.benchmarks.replay_memory",
        description="Resident memory of htt-replay over a long rendered recording.",
    )
    parser.add_argument("model", type=Path, help="model folder")
    parser.add_argument("out", type=Path, help="folder for the recording and the results")
    parser.add_argument("--minutes", type=float, default=10.0, help="(default: %(default)s)")
    parser.add_argument(
        "--size", type=int, nargs=2, default=[1280, 720], metavar=("W", "H"), help="(1280 720)"
    )
    parser.add_argument("--fps", type=float, default=30.0, help="(default: %(default)s)")
    parser.add_argument("--layout", choices=("fpha", "h2o"), default="h2o", help="(h2o)")
    parser.add_argument(
        "--replay-arg",
        action="append",
        default=[],
        metavar="ARG",
        help="further htt-replay argument, as --replay-arg=--backend=torch (repeatable)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = get_args_parser().parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    video = args.out / "recording.mp4"
    size = tuple(args.size)
    meta_path = args.out / "recording.json"
    if video.is_file() and meta_path.is_file():
        hfov = json.loads(meta_path.read_text())["hfov_deg"]
    else:
        hfov = write_recording(video, args.minutes, size, args.fps, args.layout)
        meta_path.write_text(json.dumps({"hfov_deg": hfov, "minutes": args.minutes}))
    result = measure(args.model, video, hfov, args.out, args.replay_arg)
    result["recording"] = f"{args.minutes:g} min, {size[0]}x{size[1]} at {args.fps:g} Hz"
    (args.out / "replay_memory.json").write_text(json.dumps(result, indent=1))
    plot(result, args.out / "replay_memory.png")
    print(describe(result))
    return 0


def describe(result: dict) -> str:
    """The line that states the run's memory, or that it was too short to measure."""
    head = f"htt-replay on {result['recording']}: {result['wall_s']:.1f} s"
    rss, growth = result["summary"]["rss_mb"], result["summary"]["rss_growth_mb"]
    if growth is None:
        return (
            f"{head}, too short to measure its memory ({len(result['samples'])} samples); "
            f"give more --minutes"
        )
    return (
        f"{head}; resident memory over the second half: start {rss['start']:.1f} MiB, end "
        f"{rss['end']:.1f} MiB, peak {rss['max']:.1f} MiB, growth "
        f"{growth:+.1f} MiB"
    )


if __name__ == "__main__":
    sys.exit(main())
