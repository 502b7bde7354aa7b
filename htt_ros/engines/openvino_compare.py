"""OpenVINO against ONNX Runtime on the same ONNX graphs, same feeds, same thread count.

A measurement, not a backend: htt-bench runs it where the ``openvino`` package is importable
(it is no dependency of htt_ros). OpenVINO would become a backend only if it ran these graphs
at least :data:`ADOPT_SPEEDUP` times faster than ONNX Runtime on a small CPU with outputs within
:data:`ADOPT_TOLERANCE`; the README says what was measured.
"""

from pathlib import Path

import numpy as np

from htt_ros.engines.timing import median_ms

ADOPT_SPEEDUP = 1.3
ADOPT_TOLERANCE = 1e-4


def compare_graph(path: Path, feeds: dict[str, np.ndarray], threads: int, repeats: int) -> dict:
    """Milliseconds of one run of ``path`` on ONNX Runtime and on OpenVINO's CPU plugin (fp32
    inference precision), the speed-up and the largest absolute output difference."""
    import onnxruntime as ort
    import openvino as ov

    options = ort.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")  # as the backend
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    config = {"INFERENCE_NUM_THREADS": threads, "INFERENCE_PRECISION_HINT": "f32"}
    compiled = ov.Core().compile_model(str(path), "CPU", config)
    request = compiled.create_infer_request()
    expected = session.run(names, feeds)
    request.infer(feeds)
    got = [request.get_tensor(name).data for name in names]
    pairs = zip(expected, got, strict=True)
    diff = max(float(np.max(np.abs(a.astype(np.float64) - b))) for a, b in pairs)
    ort_ms = median_ms(lambda: session.run(names, feeds), repeats)
    ov_ms = median_ms(lambda: request.infer(feeds), repeats)
    return {
        "onnxruntime_ms": ort_ms,
        "openvino_ms": ov_ms,
        "openvino_speedup": ort_ms / ov_ms,
        "max_abs_diff": diff,
    }


def compare_graphs(graphs: dict[str, tuple[Path, dict]], threads: int, repeats: int = 9) -> dict:
    """:func:`compare_graph` for each named ``(path, feeds)``, and whether OpenVINO would be
    adopted (every graph at least ADOPT_SPEEDUP faster and within ADOPT_TOLERANCE)."""
    import openvino as ov

    results: dict = {"version": ov.__version__, "threads": threads}
    for name, (path, feeds) in graphs.items():
        results[name] = compare_graph(path, feeds, threads, repeats)
    measured = [r for r in results.values() if isinstance(r, dict)]
    results["adopt"] = all(
        r["openvino_speedup"] >= ADOPT_SPEEDUP and r["max_abs_diff"] <= ADOPT_TOLERANCE
        for r in measured
    )
    return results
