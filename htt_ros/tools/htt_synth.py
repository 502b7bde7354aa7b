"""``htt-synth``: write a synthetic egocentric hand-action data set in the FPHA or H2O layout."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from htt_ros.data.synthetic import LAYOUTS, NOUNS, VERBS, default_workers, write_dataset
from htt_ros.errors import UserError
from htt_ros.tools.cli import positive_int, refuses_in_one_line, writable_folder


def get_args_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="htt-synth",
        description=(
            "Write a synthetic egocentric data set (articulated hands grasping objects and "
            f"performing actions; verbs {', '.join(VERBS)} x nouns {', '.join(NOUNS)}) in the "
            "folder layout of FPHA (right hand) or H2O (two hands), readable by htt_ros.data."
        ),
    )
    parser.add_argument("out_dir", type=Path, help="folder to write (must be empty or absent)")
    parser.add_argument("--layout", required=True, choices=LAYOUTS, help="folder layout to write")
    parser.add_argument("--seed", type=int, default=0, help="data set seed (default: 0)")
    parser.add_argument(
        "--sequences",
        type=positive_int,
        default=48,
        help="videos (fpha) or action segments (h2o), split 70/30 or 60/20/20 (default: 48)",
    )
    parser.add_argument(
        "--frames",
        type=positive_int,
        default=96,
        help="mean frames per sequence, +-25%% (default: 96)",
    )
    parser.add_argument(
        "--subjects", type=positive_int, default=4, help="distinct subjects (default: 4)"
    )
    parser.add_argument(
        "--workers",
        type=positive_int,
        default=default_workers(),
        help=f"rendering processes (default: this machine's CPU count, {default_workers()})",
    )
    parser.add_argument(
        "--force", action="store_true", help="write into OUT_DIR even if it is not empty"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    return parser


@refuses_in_one_line
def main(argv: Sequence[str] | None = None) -> int:
    args = get_args_parser().parse_args(argv)
    out: Path = args.out_dir
    if out.is_dir() and any(out.iterdir()) and not args.force:
        raise UserError(
            f"{out} is not empty; choose a new folder or pass --force to write into it"
        )
    writable_folder(out, "data set")
    start = time.perf_counter()
    written = write_dataset(
        out,
        args.layout,
        seed=args.seed,
        sequences=args.sequences,
        frames=args.frames,
        subjects=args.subjects,
        workers=args.workers,
        progress=not args.quiet,
    )
    seconds = time.perf_counter() - start
    frames = sum(w.num_frames for w in written)
    if not args.quiet:
        print(
            f"wrote {frames} frames of {args.sequences} sequences ({args.layout} layout) to {out} "
            f"in {seconds:.1f} s ({60 * frames / seconds:.0f} frames/min, {args.workers} workers)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
