"""Parameter count, ONNX sizes and PyTorch vs ONNX Runtime CPU latency of the two graphs.

Run from the repository root: ``python -m benchmarks.bench_model [--dataset fpha|h2o]``.
Random weights (timings do not depend on them), network input 480x270, t=16, T=128.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch

from htt_ros.export.onnx_export import export_graphs
from htt_ros.model import HTT, HTTConfig
from htt_ros.model.graphs import ActionStep, PoseStep


def median_ms(fn: Callable[[], object], runs: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(1e3 * (time.perf_counter() - start))
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=["fpha", "h2o"], default="fpha")
    parser.add_argument("--runs", type=int, default=7, help="timed runs per graph (default 7)")
    args = parser.parse_args()
    width, height = 480, 270
    net = HTT(HTTConfig.for_dataset(args.dataset)).eval()
    cfg = net.config
    print(f"{args.dataset}: {sum(p.numel() for p in net.parameters()):,} parameters")
    print(f"torch {torch.__version__} ({torch.get_num_threads()} threads), ORT {ort.__version__}")

    rng = np.random.default_rng(0)
    pose_inputs = {
        "image": rng.integers(0, 256, (1, height, width, 3), dtype=np.uint8),
        "prev_features": rng.normal(size=(cfg.window - 1, 512)).astype(np.float32),
        "valid": np.ones(cfg.window, bool),
    }
    action_inputs = {
        "tokens": rng.normal(size=(cfg.clip_length, 512)).astype(np.float32),
        "valid": np.ones(cfg.clip_length, bool),
    }
    graphs = {"pose_step": (PoseStep(net).eval(), pose_inputs)}
    graphs["action"] = (ActionStep(net).eval(), action_inputs)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        specs = export_graphs(net, tmp, (width, height))
        print(f"export of both graphs: {time.perf_counter() - start:.1f} s")
        for name, (module, inputs) in graphs.items():
            path = Path(tmp) / specs[name].file
            session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
            torch_inputs = [torch.from_numpy(v) for v in inputs.values()]
            with torch.inference_mode():
                torch_ms = median_ms(lambda m=module, x=torch_inputs: m(*x), args.runs)
            ort_ms = median_ms(lambda s=session, x=inputs: s.run(None, x), args.runs)
            size_mb = path.stat().st_size / 2**20
            print(
                f"{name:>9}: {size_mb:6.1f} MiB  PyTorch {torch_ms:7.1f} ms  "
                f"ONNX Runtime {ort_ms:7.1f} ms  (median of {args.runs})"
            )


if __name__ == "__main__":
    main()
