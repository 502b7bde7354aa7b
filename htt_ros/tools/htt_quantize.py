"""``htt-quantize MODEL_DIR --calibration FRAMES``: int8 graphs of a model folder."""

import argparse
import sys
import time
from pathlib import Path

from htt_ros.engines.loader import GRAPHS
from htt_ros.engines.quantize import (
    CalibrationError,
    frame_paths,
    quantize_folder,
    read_frames,
    record_feeds,
)
from htt_ros.model_card import ModelCard
from htt_ros.tools.cli import positive_int, refuses_in_one_line


def get_args_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="htt-quantize", description=__doc__.split("\n\n")[0])
    parser.add_argument("model_dir", type=Path, help="model folder made by htt-export")
    parser.add_argument(
        "--calibration",
        type=Path,
        required=True,
        help="folder of frames (jpg/png, in time order) from the target camera",
    )
    parser.add_argument(
        "--max-frames",
        type=positive_int,
        default=200,
        help="calibration frames to use at most (default: 200)",
    )
    return parser


@refuses_in_one_line
def main(argv: list[str] | None = None) -> int:
    args = get_args_parser().parse_args(argv)
    start = time.monotonic()
    ModelCard.load(args.model_dir)  # before reading any frame
    if not args.calibration.is_dir():
        raise CalibrationError(
            f"--calibration {args.calibration} is not a folder; give a folder of frames"
        )
    paths = frame_paths(args.calibration, args.max_frames)
    feeds = record_feeds(args.model_dir, read_frames(paths))
    card = quantize_folder(args.model_dir, feeds, str(args.calibration))
    files = ", ".join(card.extra["int8"][name]["file"] for name in GRAPHS)
    print(
        f"wrote {files} in {args.model_dir} from {len(feeds['pose_step'])} pose_step feeds "
        f"in {time.monotonic() - start:.1f} s; run with precision int8"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
