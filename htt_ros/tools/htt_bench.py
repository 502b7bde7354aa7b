"""``htt-bench MODEL_DIR [--json PATH]``: what a frame costs, stage by stage and end to end.

Prints a table and writes JSON: the network's size (parameter count with torch, MiB of each ONNX
graph), per-stage milliseconds (conversion and resize, the ResNet+P step, A, decoding: each graph
on every backend, so torch against ONNX Runtime per graph, and what undistorting a raw
wide-angle frame adds: ``undistortion_ms`` per frame, ``undistortion_maps_ms`` once per
CameraInfo), the sustained frames per second of the whole pipeline for each backend, precision
and thread count available, and, measured side by side in the same run with ONNX Runtime fp32,
two ratios: the pipeline's per-frame cost over the bare ResNet-18 trunk
(``pipeline_over_trunk``) and a naive pipeline that re-runs the ResNet on the whole t-frame
window every frame over the streaming one (``naive_over_streaming``). Where htt-quantize has
run, int8 too: ``int8_speedup`` (fp32 over int8 pipeline, per frame) and
``int8_pipeline_over_trunk`` (the int8 pipeline per frame over the bare trunk quantized the same
way). Trunk and pipeline run over the same frames (the mean per frame), in turn, three times:
each ratio takes the median round of both. Each pipeline's time per frame is also split where
it went, as measured inside the run (``streaming_stages_ms``, ``int8_stages_ms``,
``pipeline_stages_ms`` per run: conversion, resize, pose_step, action, decoding and the other
work: feature stacking, copies, Python).
Where the ``openvino`` package is installed, ``openvino``: OpenVINO against ONNX Runtime on the
folder's graphs (speed and largest output difference). The trunk and naive graphs are exported
on the fly from ``network.pt`` (needs torch).

``htt-bench MODEL_DIR --node [--rate HZ] [--duration S] [--peak]`` measures the node instead, as
a robot runs it: a camera process, htt_node and a consumer over DDS; latency percentiles, the
processed rate, the fraction of the frames the model should take that were dropped, the node's
CPU use and memory growth, and with ``--peak`` the peak throughput; JSON and a plot
(htt_ros.benchmarks.node_benchmark defines each number).
"""

import argparse
import importlib.util
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections import deque
from pathlib import Path

import cv2
import numpy as np
from std_msgs.msg import Header

from htt_ros.data.synthetic import generate_sequence
from htt_ros.engines.base import EngineError
from htt_ros.engines.loader import BACKENDS, GRAPHS, LoadedModel, load_model
from htt_ros.engines.onnxruntime_backend import OnnxRuntimeRunner, default_threads
from htt_ros.engines.timing import median_ms
from htt_ros.errors import UserError
from htt_ros.geometry import decode_25d, scale_intrinsics
from htt_ros.metrics import softmax
from htt_ros.model_card import ModelCard
from htt_ros.ros.camera_intrinsics import IntrinsicsSource
from htt_ros.ros.image_messages import camera_info_msg
from htt_ros.streaming.pipeline import STAGES, StreamingConfig, StreamingPipeline
from htt_ros.streaming.preprocess import View, to_network_input
from htt_ros.tools.cli import positive_float, positive_int, refuses_in_one_line, writable_file

ACTION_STRIDE = 8
SIDE_BY_SIDE_ROUNDS = 3  # trunk and pipeline measured in turn, the median round of each


def camera_stream(card_joints: int, n: int, size: tuple[int, int]) -> tuple[list, np.ndarray]:
    """``n`` rendered synthetic BGR frames at camera ``size`` (W, H) and their intrinsics."""
    seq = generate_sequence("fpha" if card_joints == 21 else "h2o", 0, n, seed=0)
    frames = [cv2.cvtColor(cv2.resize(img, size), cv2.COLOR_RGB2BGR) for img in seq.images]
    return frames, scale_intrinsics(seq.intrinsics, (480, 270), size)


WIDE_ANGLE_D = [-0.28, 0.09, 0.001, -0.001, -0.015]  # plumb_bob, a typical wide-angle lens


def undistortion_times(
    bgr: np.ndarray, k: np.ndarray, frame: tuple[int, int], repeats: int
) -> dict:
    """What a raw frame from a distorting lens adds, as the node does it (rectification raw,
    undistorted to cover the decoding ``frame``): the maps, once per CameraInfo, and the
    per-frame remap."""
    height, width = bgr.shape[:2]
    info = camera_info_msg(k, width, height, Header())
    info.d = WIDE_ANGLE_D
    source = IntrinsicsSource("camera_info", "image")
    source.update(info)
    start = time.perf_counter()
    answer = source.for_image(width, height, 0.0, 0.0, 0.0, "raw", frame)
    maps_ms = 1000 * (time.perf_counter() - start)
    return {
        "undistortion_maps_ms": maps_ms,
        "undistortion_ms": median_ms(lambda: answer.undistort.image(bgr), repeats),
    }


def step_feeds(card: ModelCard, image: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """pose_step's feeds for a full window around ``image`` (default: a grey one)."""
    if image is None:
        image = np.full((1, card.input_height, card.input_width, 3), 128, np.uint8)
    return {
        "image": image,
        "prev_features": np.zeros((card.window - 1, 512), np.float32),
        "valid": np.ones(card.window, bool),
    }


def network_input(card: ModelCard, bgr: np.ndarray) -> tuple[np.ndarray, View]:
    """A camera's BGR frame to RGB and on to the card's network input, as the pipeline does."""
    size = (card.input_width, card.input_height)
    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    return to_network_input(rgb, size, card.decoding.frame, shrink=card.shrink)


def stage_times(model: LoadedModel, bgr: np.ndarray, k: np.ndarray, repeats: int) -> dict:
    card, frame = model.card, model.card.decoding.frame
    image, view = network_input(card, bgr)
    k_frame = view.intrinsics(k)
    feeds = step_feeds(card, image)
    action_feeds = {
        "tokens": np.zeros((card.clip_length, 512), np.float32),
        "valid": np.ones(card.clip_length, bool),
    }
    pose_raw = model.pose_step.run(feeds)["pose_raw"][-1]
    return {
        "conversion_resize_ms": median_ms(lambda: network_input(card, bgr), repeats),
        "resnet_p_step_ms": median_ms(lambda: model.pose_step.run(feeds), repeats),
        "action_ms": median_ms(lambda: model.action.run(action_feeds), max(3, repeats // 2)),
        "decoding_ms": median_ms(lambda: decode_25d(pose_raw, k_frame, frame), repeats),
    }


STAGE_NAMES = ("conversion", *STAGES, "other")  # other: feature stacking, copies, Python


def pipeline_costs(model: LoadedModel, frames: list, k: np.ndarray) -> dict:
    """The whole pipeline per frame, from the start of a stream (its window filling included),
    every frame processed: ``ms_per_frame``, and ``stages_ms`` where that time went per frame
    (BGR to RGB conversion, the pipeline's own :data:`STAGES`, and the rest)."""
    config = StreamingConfig(action_stride=ACTION_STRIDE, rate_hz=0.0, max_gap_s=0.0)
    pipeline = StreamingPipeline(model.card, model.pose_step, model.action, config)
    pipeline.push(cv2.cvtColor(frames[0], cv2.COLOR_BGR2RGB), 1, k)  # first-run costs
    before = dict(pipeline.stage_s)
    conversion = 0.0
    start = time.perf_counter()
    for i, bgr in enumerate(frames, start=2):
        converting = time.perf_counter()
        rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        conversion += time.perf_counter() - converting
        pipeline.push(rgb, i, k)
    total = time.perf_counter() - start
    stages = {"conversion": conversion}
    stages |= {name: pipeline.stage_s[name] - before[name] for name in STAGES}
    stages["other"] = total - sum(stages.values())
    n = len(frames)
    return {
        "ms_per_frame": 1000 * total / n,
        "stages_ms": {name: 1000 * stages[name] / n for name in STAGE_NAMES},
    }


def naive_ms_per_frame(naive: OnnxRuntimeRunner, model: LoadedModel, frames, k) -> float:
    """The same outputs without a feature cache: ResNet + P over the whole window every frame."""
    card = model.card
    window: deque[np.ndarray] = deque(maxlen=card.window)
    tokens: deque[np.ndarray] = deque(maxlen=card.clip_length)
    frame = card.decoding.frame
    start = time.perf_counter()
    for i, bgr in enumerate(frames):
        image, view = network_input(card, bgr)
        k_frame = view.intrinsics(k)
        window.append(image[0])
        n = len(window)
        images = np.stack(list(window) + [window[-1]] * (card.window - n))
        out = naive.run({"images": images, "valid": np.arange(card.window) < n})
        decode_25d(out["pose_raw"][n - 1], k_frame, frame)
        softmax(out["object_logits"][n - 1])
        tokens.append(out["tokens"][n - 1])
        if (i + 1) % ACTION_STRIDE == 0:
            padded = np.zeros((card.clip_length, 512), np.float32)
            padded[: len(tokens)] = np.stack(tokens)
            model.action.run(
                {"tokens": padded, "valid": np.arange(card.clip_length) < len(tokens)}
            )
    return 1000 * (time.perf_counter() - start) / len(frames)


def get_args_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="htt-bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("model_dir", type=Path, help="model folder made by htt-export")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    parser.add_argument(
        "--frames", type=positive_int, default=48, help="frames per pipeline run (48)"
    )
    parser.add_argument(
        "--naive-frames",
        type=positive_int,
        default=16,
        help="frames for the slow naive pipeline (16)",
    )
    parser.add_argument(
        "--threads",
        type=positive_int,
        nargs="+",
        default=None,
        help="thread counts to measure (default: 1 and all cores)",
    )
    parser.add_argument(
        "--backends",
        nargs="+",
        choices=BACKENDS,
        default=["onnxruntime", "torch"],
        help="backends to measure (default: onnxruntime torch)",
    )
    parser.add_argument(
        "--camera-size",
        type=positive_int,
        nargs=2,
        default=(1280, 720),
        metavar=("W", "H"),
        help="camera frame size (default: 1280 720)",
    )
    node = parser.add_argument_group("node benchmark (--node)")
    node.add_argument(
        "--node", action="store_true", help="benchmark htt_node between a camera and a consumer"
    )
    node.add_argument("--rate", type=positive_float, default=30.0, help="camera rate, Hz (30)")
    node.add_argument(
        "--duration", type=positive_float, default=60.0, help="camera run, seconds (60)"
    )
    node.add_argument(
        "--warmup",
        type=float,
        default=5.0,
        help="seconds at the start of the run left out of the numbers (5)",
    )
    node.add_argument(
        "--camera-qos",
        choices=("sensor_data", "reliable"),
        default="sensor_data",
        help="the camera's QoS: sensor_data (best effort, as most drivers; default) or "
        "reliable (the node then subscribes reliable too)",
    )
    node.add_argument(
        "--peak",
        type=positive_float,
        nargs="*",
        default=None,
        metavar="HZ",
        help="then search the peak throughput over these camera rates (default: 10 to 120 Hz)",
    )
    node.add_argument(
        "--peak-duration",
        type=positive_float,
        default=10.0,
        help="seconds per peak-search rate (10)",
    )
    node.add_argument(
        "--node-param",
        action="append",
        default=[],
        metavar="NAME:=VALUE",
        help="a parameter for htt_node, e.g. precision:=fp32 (repeatable)",
    )
    node.add_argument(
        "--plot",
        type=Path,
        default=None,
        help="the node benchmark's figure (default: the JSON's path, or htt-bench-node, .png)",
    )
    return parser


def node_main(args: argparse.Namespace) -> int:
    """``--node``: the node benchmark (htt_ros.benchmarks.node_benchmark)."""
    from htt_ros.benchmarks.node_benchmark import PEAK_RATES_HZ, Settings, run_node_benchmark
    from htt_ros.benchmarks.node_plot import plot_node_benchmark

    plot = args.plot or (args.json or Path("htt-bench-node.json")).with_suffix(".png")
    writable_file(plot)
    for param in args.node_param:
        if ":=" not in param:
            raise UserError(f"--node-param {param!r}: write NAME:=VALUE, e.g. precision:=fp32")
    if not 0 <= args.warmup < args.duration:
        raise UserError(f"--warmup {args.warmup}: give 0 or more, below --duration")
    settings = Settings(
        model=args.model_dir.absolute(),
        rate_hz=args.rate,
        duration_s=args.duration,
        warmup_s=args.warmup,
        camera_size=tuple(args.camera_size),
        camera_qos=args.camera_qos,
        node_params=args.node_param,
        peak_rates_hz=None if args.peak is None else sorted(args.peak or PEAK_RATES_HZ),
        peak_duration_s=args.peak_duration,
    )
    print(
        f"node benchmark: camera {args.rate:g} Hz {args.camera_size[0]}x{args.camera_size[1]} "
        f"for {args.duration:g} s -> htt_node -> consumer",
        flush=True,
    )
    results, series = run_node_benchmark(settings)
    node = results["node"]
    node["plot"] = str(plot_node_benchmark(plot, node, series))
    print_node(node)
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n")
        print(f"wrote {args.json}")
    return 0


def print_node(node: dict) -> None:
    latency, frames = node["latency_ms"], node["frames"]
    if latency is not None:
        print(
            f"latency ms: p50 {latency['p50']:.1f}, p90 {latency['p90']:.1f}, "
            f"p99 {latency['p99']:.1f}, max {latency['max']:.1f}"
        )
    drop = node["drop_fraction"]
    print(
        f"{node.get('backend', '?')} {node.get('precision', '?')}: processed "
        f"{frames['processed']} of the {frames['expected']} frames the model should take "
        f"({node['processed_hz'] or 0:.1f} Hz), dropped "
        + ("n/a" if drop is None else f"{drop:.1%}")
    )
    received = node["node_counters"]["frames_received"]
    if received < frames["sent"]:
        print(
            f"the node's image callback saw {received} of the {frames['sent']} frames sent "
            f"(the others were lost by DDS or replaced in the subscription's queue: large "
            f"frames lose more; see --camera-qos and --camera-size)"
        )
    rss = node["rss_mb"]
    if node["cpu_percent"] is not None:
        per_frame = node["cpu_ms_per_processed_frame"] or 0.0
        print(f"node CPU {node['cpu_percent']:.0f} % of a core, {per_frame:.0f} ms per pose")
    if rss is not None and node["rss_growth_mb"] is not None:
        print(
            f"node memory once its histories are full: {rss['start']:.0f} -> {rss['end']:.0f} MB "
            f"({node['rss_growth_mb']:+.1f} MB)"
        )
    elif rss is not None:
        print(
            f"node memory {rss['start']:.0f} -> {rss['end']:.0f} MB; growth not measured: the run "
            "ends before the histories are full (a longer --duration measures it)"
        )
    if node["peak_input_hz"] is not None or isinstance(node["peak"], dict):
        print(f"peak throughput: {node['peak_input_hz']} Hz (every frame taken, < 5 % dropped)")
    print(f"plot: {node['plot']}")


@refuses_in_one_line
def main(argv: list[str] | None = None) -> int:
    args = get_args_parser().parse_args(argv)
    if args.json is not None:
        writable_file(args.json)
    if args.node:
        return node_main(args)
    threads = args.threads or sorted({1, os.cpu_count() or 1})
    base = load_model(args.model_dir)
    card = base.card
    frames, k = camera_stream(card.num_joints, args.frames, tuple(args.camera_size))
    results: dict = {
        "machine": {
            "cpus": os.cpu_count(),
            "processor": platform.processor() or platform.machine(),
        },
        "model": {
            "folder": str(args.model_dir),
            "dataset": card.dataset,
            "input": [card.input_width, card.input_height],
            "t": card.window,
            "T": card.clip_length,
            **model_size(args.model_dir, card),
        },
        "camera": list(args.camera_size),
        "runs": [],
    }
    print_model(results["model"])
    configs = [
        (b, p, n)
        for b in args.backends
        for p in ("fp32", "int8")
        for n in threads
        if not (p == "int8" and b != "onnxruntime")
    ]
    for backend, precision, n in configs:
        try:
            model = load_model(args.model_dir, backend, precision, threads=n)
        except (EngineError, ImportError) as error:
            print(f"skipping {backend} {precision} x{n}: {error}", file=sys.stderr)
            continue
        run = {
            "backend": backend,
            "precision": precision,
            "threads": n,
            **stage_times(model, frames[0], k, repeats=7),
            **undistortion_times(frames[0], k, card.decoding.frame, repeats=7),
        }
        costs = pipeline_costs(model, frames, k)
        run["pipeline_ms_per_frame"] = costs["ms_per_frame"]
        run["pipeline_stages_ms"] = costs["stages_ms"]
        run["fps"] = 1000 / run["pipeline_ms_per_frame"]
        results["runs"].append(run)
        print_run(run)

    results["ratios"] = side_by_side(args, base, frames, k, default_threads())
    print_ratios(results["ratios"])
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n")
        print(f"wrote {args.json}")
    return 0


def model_size(folder: Path, card: ModelCard) -> dict:
    """MiB of each ONNX graph (int8 too where htt-quantize has run) and, with torch, the
    network's parameter count."""
    files = [card.graphs[name].file for name in GRAPHS]
    files += [info["file"] for name, info in card.extra.get("int8", {}).items() if name in GRAPHS]
    size = {"onnx_mib": {f: (folder / f).stat().st_size / 2**20 for f in files}}
    try:
        from htt_ros.model import load_network
    except ImportError:
        return size | {"parameters": "not counted: torch is not installed"}
    net = load_network(folder / "network.pt")
    return size | {"parameters": sum(p.numel() for p in net.parameters())}


def print_model(model: dict) -> None:
    graphs = ", ".join(f"{name} {mib:.1f} MiB" for name, mib in model["onnx_mib"].items())
    count = model["parameters"]
    print(f"{count:,} parameters" if isinstance(count, int) else count, f"| {graphs}", flush=True)


def side_by_side(args, base: LoadedModel, frames: list, k: np.ndarray, threads: int) -> dict:
    """Trunk, streaming, naive (and int8 trunk and streaming) per-frame costs in one run, same
    threads; OpenVINO against ONNX Runtime on the same graphs where openvino is importable."""
    try:
        import torch  # noqa: F401  (the trunk and naive graphs are exported from network.pt)

        from htt_ros.export.onnx_export import export_benchmark_graphs
        from htt_ros.model import load_network
    except ImportError:
        return {"skipped": "torch is not installed (pip install ros-htt-ros[torch])"}
    images = [network_input(base.card, bgr)[0] for bgr in frames]
    with tempfile.TemporaryDirectory() as tmp:
        net = load_network(args.model_dir / "network.pt")
        export_benchmark_graphs(net, tmp, (base.card.input_width, base.card.input_height))
        trunk_path = Path(tmp) / "trunk.onnx"
        trunk = OnnxRuntimeRunner(trunk_path, threads=threads)
        naive = OnnxRuntimeRunner(Path(tmp) / "naive_window.onnx", threads=threads)
        model = load_model(args.model_dir, precision="fp32", threads=threads)
        trunk_ms, streaming = trunk_and_pipeline(trunk, model, images, frames, k)
        streaming_ms = streaming["ms_per_frame"]
        naive_ms = naive_ms_per_frame(naive, model, frames[: args.naive_frames], k)
        ratios = {
            "threads": threads,
            "trunk_ms": trunk_ms,
            "streaming_ms_per_frame": streaming_ms,
            "streaming_stages_ms": streaming["stages_ms"],
            "naive_ms_per_frame": naive_ms,
            "pipeline_over_trunk": streaming_ms / trunk_ms,
            "naive_over_streaming": naive_ms / streaming_ms,
        }
        try:
            int8 = load_model(args.model_dir, precision="int8", threads=threads)
        except EngineError as error:
            ratios["int8"] = f"not measured: {error}"
        else:
            int8_trunk = int8_trunk_path(trunk_path, base.card, images)
            runner = OnnxRuntimeRunner(int8_trunk, threads=threads)
            int8_trunk_ms, int8_costs = trunk_and_pipeline(runner, int8, images, frames, k)
            int8_ms = int8_costs["ms_per_frame"]
            ratios |= {
                "int8_trunk_ms": int8_trunk_ms,
                "int8_ms_per_frame": int8_ms,
                "int8_stages_ms": int8_costs["stages_ms"],
                "int8_speedup": streaming_ms / int8_ms,
                "int8_pipeline_over_trunk": int8_ms / int8_trunk_ms,
            }
        ratios["openvino"] = openvino_side_by_side(args.model_dir, base.card, images[0], threads)
    return ratios


def trunk_and_pipeline(
    trunk: OnnxRuntimeRunner, model: LoadedModel, images: list, frames: list, k: np.ndarray
) -> tuple[float, dict]:
    """The bare trunk and the whole pipeline per frame, on the same frames and with the same
    statistic (the mean over them, in order, after one untimed frame), measured in turn
    SIDE_BY_SIDE_ROUNDS times so that load which comes and goes meets both: the median round of
    each (the trunk's milliseconds, the pipeline's :func:`pipeline_costs`)."""
    trunks, pipelines = [], []
    for _ in range(SIDE_BY_SIDE_ROUNDS):
        trunk.run({"image": images[0]})
        start = time.perf_counter()
        for image in images:
            trunk.run({"image": image})
        trunks.append(1000 * (time.perf_counter() - start) / len(images))
        pipelines.append(pipeline_costs(model, frames, k))
    pipelines.sort(key=lambda costs: costs["ms_per_frame"])
    return statistics.median(trunks), pipelines[len(pipelines) // 2]


def int8_trunk_path(trunk: Path, card: ModelCard, images: list[np.ndarray]) -> Path:
    """The bare trunk quantized as the folder's pose_step was (its card's choice), calibrated
    on the benchmark's frames: the int8 pipeline's yardstick."""
    from htt_ros.engines.quantize import CHOICES, DEFAULT_CHOICE, quantize_graph

    choice = CHOICES[card.quantization.choice if card.quantization else DEFAULT_CHOICE]
    target = trunk.with_name("trunk.int8.onnx")
    quantize_graph(trunk, target, [{"image": image} for image in images], choice, choice.ops)
    return target


def openvino_side_by_side(
    folder: Path, card: ModelCard, image: np.ndarray, threads: int
) -> dict | str:
    """OpenVINO against ONNX Runtime on the folder's graphs (int8 too where they exist)."""
    if importlib.util.find_spec("openvino") is None:
        return "not measured: openvino is not installed (pip install openvino)"
    from htt_ros.engines.openvino_compare import compare_graphs

    action = {
        "tokens": np.zeros((card.clip_length, 512), np.float32),
        "valid": np.ones(card.clip_length, bool),
    }
    feeds = {"pose_step": step_feeds(card, image), "action": action}
    graphs = {f"{name}_fp32": (folder / card.graphs[name].file, feeds[name]) for name in GRAPHS}
    for name in GRAPHS:
        entry = card.extra.get("int8", {}).get(name)
        if entry is not None:
            graphs[f"{name}_int8"] = (folder / entry["file"], feeds[name])
    return compare_graphs(graphs, threads)


def print_ratios(ratios: dict) -> None:
    """The side-by-side ratios, each pipeline's cost per frame split by stage next to its
    trunk, so that a stage that grows shows at once."""
    if "skipped" in ratios:
        print(f"ratios skipped: {ratios['skipped']}")
        return
    print(f"side by side, onnxruntime x{ratios['threads']}:")
    rows = [("fp32", "streaming_ms_per_frame", "streaming_stages_ms", "trunk_ms")]
    if "int8_stages_ms" in ratios:
        rows.append(("int8", "int8_ms_per_frame", "int8_stages_ms", "int8_trunk_ms"))
    for precision, total, stages, trunk in rows:
        parts = " + ".join(f"{name} {ms:.2f}" for name, ms in ratios[stages].items())
        print(
            f"  {precision} pipeline {ratios[total]:.2f} ms/frame = {parts}; "
            f"bare trunk {ratios[trunk]:.2f} ms"
        )
    print(
        f"  pipeline_over_trunk {ratios['pipeline_over_trunk']:.3f}, naive_over_streaming "
        f"{ratios['naive_over_streaming']:.1f}"
        + (
            f", int8_pipeline_over_trunk {ratios['int8_pipeline_over_trunk']:.3f}, "
            f"int8_speedup {ratios['int8_speedup']:.2f}"
            if "int8_speedup" in ratios
            else f"; int8 {ratios['int8']}"
        )
    )
    openvino = ratios["openvino"]
    print("  openvino:", openvino if isinstance(openvino, str) else json.dumps(openvino))


def print_run(run: dict) -> None:
    print(
        f"{run['backend']:>11} {run['precision']:>4} x{run['threads']}: "
        f"convert+resize {run['conversion_resize_ms']:6.2f} ms | "
        f"ResNet+P {run['resnet_p_step_ms']:7.2f} ms | A {run['action_ms']:6.2f} ms | "
        f"decode {run['decoding_ms']:5.3f} ms | undistort {run['undistortion_ms']:5.2f} ms | "
        f"pipeline {run['pipeline_ms_per_frame']:7.2f} ms/frame = {run['fps']:5.1f} fps",
        flush=True,
    )


if __name__ == "__main__":
    sys.exit(main())
