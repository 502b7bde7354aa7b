"""``htt-export CHECKPOINT OUT_DIR``: a model folder from an authors' or htt_ros checkpoint.

CHECKPOINT may also be the authors' release archive ``ws.zip`` as downloaded (release
``assets-v1`` of github fylwen/HTT): the checkpoint for the data set is taken out of it.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from htt_ros.errors import UserError
from htt_ros.export.onnx_export import DEFAULT_INPUT_SIZE, export_model_folder
from htt_ros.export.release_archive import extract_checkpoint, is_release_archive
from htt_ros.model_card import ModelCard
from htt_ros.tools.cli import refuses_in_one_line

MIN_INPUT_SIZE = (32, 18)  # (W, H): the smallest 16:9 input the training configs use


def get_args_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="htt-export",
        description="Export an HTT checkpoint (the authors' or ours) to a model folder: "
        "pose_step.onnx, action.onnx and model.json.",
    )
    parser.add_argument(
        "checkpoint",
        help="authors' .pth or htt_ros checkpoint, or the authors' ws.zip holding checkpoints",
    )
    parser.add_argument("out_dir", help="model folder to write (created if missing)")
    parser.add_argument(
        "--dataset",
        choices=["fpha", "h2o"],
        default=None,
        help="data set the checkpoint must be for, or to take from ws.zip (default: inferred "
        "from the head shapes)",
    )
    parser.add_argument(
        "--member",
        default=None,
        metavar="PATH",
        help="checkpoint inside the zip to export, e.g. ckpts/htt_fpha/checkpoint_45.pth "
        "(default: the latest epoch of the data set's)",
    )
    parser.add_argument(
        "--input-size",
        nargs=2,
        type=int,
        metavar=("W", "H"),
        default=list(DEFAULT_INPUT_SIZE),
        help="network input size in pixels (default: %(default)s, the authors' 480 270)",
    )
    parser.add_argument(
        "--labels",
        default=None,
        help="JSON label file (name, actions [{name, verb, noun}], objects, num_joints); "
        "default: from the checkpoint or the built-in FPHA/H2O names",
    )
    parser.add_argument(
        "--trust-pickle",
        action="store_true",
        help="allow arbitrary pickled objects in the checkpoint (runs code from the file; only "
        "for files you trust; default: off)",
    )
    return parser


@refuses_in_one_line
def main(argv: Sequence[str] | None = None) -> int:
    args = get_args_parser().parse_args(argv)
    width, height = args.input_size
    if width < MIN_INPUT_SIZE[0] or height < MIN_INPUT_SIZE[1]:
        raise UserError(
            f"input size {width}x{height} is below {MIN_INPUT_SIZE[0]}x{MIN_INPUT_SIZE[1]} "
            "pixels; pass a larger one"
        )
    try:
        with tempfile.TemporaryDirectory(prefix="htt_export_") as workdir:
            card = _export(args, (width, height), Path(workdir))
    except ValueError as err:  # bad label files (CheckpointError is a UserError too)
        raise UserError(str(err)) from err
    print(
        f"wrote {args.out_dir}: {card.dataset}, {card.num_joints} joints, "
        f"{len(card.labels.objects)} objects, {len(card.labels.actions)} actions, "
        f"input {width}x{height}, t={card.window}, T={card.clip_length}"
    )
    return 0


def _export(args: argparse.Namespace, input_size: tuple[int, int], workdir: Path) -> ModelCard:
    """Export the checkpoint, first taken out of the archive when it is the authors' zip."""
    checkpoint = args.checkpoint
    if is_release_archive(checkpoint):
        taken = extract_checkpoint(
            checkpoint,
            workdir,
            dataset=args.dataset,
            member=args.member,
            trust_pickle=args.trust_pickle,
        )
        print(f"{checkpoint}: exporting {taken.member} ({taken.dataset}, epoch {taken.epoch})")
        checkpoint = taken.path
    elif args.member is not None:
        raise ValueError(f"--member needs a zip archive of checkpoints; {checkpoint} is none")
    return export_model_folder(
        checkpoint,
        args.out_dir,
        dataset=args.dataset,
        input_size=input_size,
        labels_file=args.labels,
        trust_pickle=args.trust_pickle,
    )


if __name__ == "__main__":
    sys.exit(main())
