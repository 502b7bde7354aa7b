"""``htt-make-bag [DATA_DIR] OUT_BAG --layout L``: data set sequences into a rosbag2 bag."""

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from htt_ros.bags.bag_io import STORAGES, BagError, check_new_bag
from htt_ros.bags.make_bag import LAYOUTS, dataset_sequences, synthetic_sequences, write_bag
from htt_ros.tools.cli import (
    non_negative_float,
    positive_int,
    refuses_in_one_line,
    writable_folder,
)


def get_args_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="htt-make-bag",
        description=(
            "Write data set sequences into a rosbag2 directory: camera images at the camera's "
            "rate, CameraInfo, and the ground truth on /ground_truth/* in htt_ros messages."
        ),
        epilog=(
            "Examples: htt-make-bag data/fpha bags/fpha_test --layout fpha; "
            "htt-make-bag bags/synth --layout synthetic-h2o --sequences 4 (no data folder)"
        ),
    )
    parser.add_argument(
        "paths",
        nargs="+",
        metavar="[DATA_DIR] OUT_BAG",
        help="data set folder (not for synthetic-* layouts) and the bag folder to create",
    )
    parser.add_argument("--layout", required=True, choices=LAYOUTS, help="data set layout")
    parser.add_argument("--split", default="test", help="data set split to write (default: test)")
    parser.add_argument(
        "--sequences",
        type=positive_int,
        default=None,
        help="number of sequences (default: the whole split; 4 for synthetic-*)",
    )
    parser.add_argument(
        "--frames",
        type=positive_int,
        default=64,
        help="frames per synthetic sequence (default: 64)",
    )
    parser.add_argument("--seed", type=int, default=0, help="synthetic seed (default: 0)")
    parser.add_argument(
        "--compressed", action="store_true", help="JPEG CompressedImage instead of raw rgb8"
    )
    parser.add_argument(
        "--jpeg-quality", type=positive_int, default=90, help="JPEG quality 1-100 (default: 90)"
    )
    parser.add_argument(
        "--storage", choices=tuple(STORAGES), default="mcap", help="storage (default: mcap)"
    )
    parser.add_argument(
        "--gap",
        type=non_negative_float,
        default=1.0,
        help="seconds between sequences; above the node's max_gap_s so replay resets "
        "(default: 1.0)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    return parser


@refuses_in_one_line
def main(argv: Sequence[str] | None = None) -> int:
    parser = get_args_parser()
    args = parser.parse_args(argv)
    synthetic = args.layout.startswith("synthetic-")
    if len(args.paths) != (1 if synthetic else 2):
        parser.error(
            "synthetic-* layouts take only OUT_BAG (the generator needs no folder)"
            if synthetic
            else f"the {args.layout} layout takes DATA_DIR and OUT_BAG"
        )
    if args.jpeg_quality > 100:
        parser.error(f"argument --jpeg-quality: must be 1-100, got {args.jpeg_quality}")
    out = Path(args.paths[-1])
    check_new_bag(out)
    writable_folder(out.parent, "bag")
    if synthetic:
        layout = args.layout.removeprefix("synthetic-")
        count = args.sequences or 4
        labels, sequences = synthetic_sequences(layout, count, args.frames, args.seed)
    else:
        labels, sequences = dataset_sequences(
            Path(args.paths[0]), args.layout, args.split, args.sequences
        )
    if not sequences:
        raise BagError(f"split {args.split!r} of {args.paths[0]} has no sequences")
    frames = write_bag(
        out,
        labels,
        sequences,
        compressed=args.compressed,
        storage=args.storage,
        gap_s=args.gap,
        jpeg_quality=args.jpeg_quality,
        progress=not args.quiet,
    )
    if not args.quiet:
        print(f"wrote {frames} frames of {len(sequences)} sequences to {out} ({args.storage})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
