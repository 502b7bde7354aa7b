"""``htt-build-engines MODEL_DIR``: build, or check the cached, TensorRT engines of a model folder.

Building takes minutes on a Jetson; run this once after installing a model (or upgrading JetPack)
so that the node starts at once. Each graph is loaded or built, its bindings are checked against
``model.json``, it is warmed up and timed.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from htt_ros.engines.loader import card_specs
from htt_ros.engines.tensorrt_backend import PRECISIONS, TensorRTOptions, TensorRTRunner
from htt_ros.model_card import ModelCard
from htt_ros.tools.cli import positive_int, refuses_in_one_line

TIMED_RUNS = 10


def get_args_parser(add_help: bool = True) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        "htt-build-engines", description=__doc__.split("\n")[0], add_help=add_help
    )
    parser.add_argument("model_dir", metavar="MODEL_DIR", help="model folder made by htt-export")
    parser.add_argument(
        "--precision", choices=PRECISIONS, default="fp16", help="engine precision (default: fp16)"
    )
    parser.add_argument(
        "--cache",
        metavar="DIR",
        default=None,
        help="engine cache (default: $HTT_ENGINE_CACHE or ~/.cache/htt_ros/engines)",
    )
    parser.add_argument(
        "--workspace-mib",
        type=positive_int,
        default=TensorRTOptions.workspace_mib,
        help="TensorRT workspace limit in MiB (default: %(default)s)",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="rebuild even if a valid cached engine exists (default: off)",
    )
    return parser


@refuses_in_one_line
def main(argv: Sequence[str] | None = None) -> int:
    args = get_args_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    options = TensorRTOptions(
        precision=args.precision,
        workspace_mib=args.workspace_mib,
        cache_dir=args.cache,
        force_rebuild=args.force,
    )
    folder = Path(args.model_dir)
    card = ModelCard.load(folder)
    for name, (inputs, outputs) in card_specs(card).items():
        onnx_path = folder / card.graphs[name].file
        with TensorRTRunner(onnx_path, inputs, outputs, options, graph=name) as runner:
            print(_report(name, runner), flush=True)
    return 0


def _report(name: str, runner: TensorRTRunner) -> str:
    feeds = {s.name: np.zeros(s.shape, s.dtype) for s in runner.inputs}
    start = time.perf_counter()
    for _ in range(TIMED_RUNS):
        runner.run(feeds)
    run_ms = 1e3 * (time.perf_counter() - start) / TIMED_RUNS
    record, device = runner.record, runner.device
    what = "built" if record.built else "loaded cached engine"
    major, minor = device.compute_capability
    return (
        f"{name}: {what} in {record.seconds:.1f} s, {runner.options.precision}, TensorRT "
        f"{runner.tensorrt_version}, {device.name} (sm_{major}{minor}), {run_ms:.2f} ms per run; "
        f"{record.path or 'not cached (cache not writable)'}"
    )


if __name__ == "__main__":
    sys.exit(main())
