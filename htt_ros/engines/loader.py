"""Open a model folder on a backend chosen by name: the one entry the pipeline and node use."""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from htt_ros.engines.base import EngineError, GraphRunner, TensorSpec
from htt_ros.model_card import ModelCard, sha256_file

BACKENDS = ("onnxruntime", "tensorrt", "torch")
GRAPHS = ("pose_step", "action")
INT8_SUFFIX = ".int8.onnx"  # written by htt-quantize next to each fp32 graph


@dataclass
class LoadedModel:
    """A model folder's card and its two graphs, ready to run."""

    folder: Path
    card: ModelCard
    pose_step: GraphRunner
    action: GraphRunner
    backend: str
    precision: str


def warm_up(model: LoadedModel) -> None:
    """Run each graph once on zero inputs: a session's first run allocates its buffers and picks
    its kernels, which would otherwise hold up the first camera frames (and drop those that
    arrive meanwhile)."""
    for runner in (model.pose_step, model.action):
        runner.run({spec.name: np.zeros(spec.shape, spec.dtype) for spec in runner.inputs})


def card_specs(
    card: ModelCard,
) -> dict[str, tuple[tuple[TensorSpec, ...], tuple[TensorSpec, ...]]]:
    """Each graph's (inputs, outputs) as engine tensor specs, from the model card."""

    def convert(specs) -> tuple[TensorSpec, ...]:
        return tuple(TensorSpec(s.name, tuple(s.shape), np.dtype(s.dtype)) for s in specs)

    return {
        name: (convert(card.graphs[name].inputs), convert(card.graphs[name].outputs))
        for name in GRAPHS
    }


def check_runner(runner: GraphRunner, expected, graph: str) -> None:
    """Raise EngineError unless the runner's I/O equal the model card's, name by name."""
    for kind, have, want in (
        ("input", runner.inputs, expected[0]),
        ("output", runner.outputs, expected[1]),
    ):
        if {s.name: s for s in have} != {s.name: s for s in want}:
            raise EngineError(
                f"{graph}: {runner.backend} {kind}s {_describe(have)} differ from model.json's "
                f"{_describe(want)}; the folder's files do not belong together: re-export it "
                f"with htt-export"
            )


def _describe(specs: tuple[TensorSpec, ...]) -> str:
    return ", ".join(f"{s.name} {s.dtype}{list(s.shape)}" for s in specs)


def has_int8(card: ModelCard) -> bool:
    """Whether htt-quantize recorded int8 graphs for both graphs in ``card``."""
    return all(name in card.extra.get("int8", {}) for name in GRAPHS)


def resolve_precision(
    backend: str, precision: str, card: ModelCard | None = None, device: str = "cpu"
) -> str:
    """``auto`` is fp16 on TensorRT, int8 on ONNX Runtime's CPU when ``card`` records int8
    graphs (htt-quantize), else fp32; reject what a backend cannot do."""
    if precision == "auto":
        if backend == "tensorrt":
            return "fp16"
        quantized = card is not None and has_int8(card)
        return "int8" if backend == "onnxruntime" and device == "cpu" and quantized else "fp32"
    allowed = {"onnxruntime": ("fp32", "int8"), "torch": ("fp32",), "tensorrt": ("fp16", "fp32")}[
        backend
    ]
    if precision not in allowed:
        raise EngineError(
            f"backend {backend} runs precision {', '.join(allowed)}, not {precision}"
        )
    return precision


def int8_graph(folder: Path, card: ModelCard, graph: str) -> Path:
    """The int8 file of ``graph`` that htt-quantize recorded in the card, checksum verified."""
    entry = card.extra.get("int8", {}).get(graph)
    if entry is None:
        raise EngineError(f"{folder} has no int8 graphs: make them with htt-quantize {folder}")
    path = folder / entry["file"]
    if not path.is_file() or sha256_file(path) != entry["sha256"]:
        raise EngineError(
            f"{path} is missing or differs from model.json's checksum; run htt-quantize again"
        )
    return path


def load_model(
    folder: str | Path,
    backend: str = "onnxruntime",
    precision: str = "auto",
    threads: int = 0,
    device: str = "cpu",
) -> LoadedModel:
    """Read ``folder/model.json`` (checksums verified) and load both graphs on ``backend``."""
    folder = Path(folder)
    if backend not in BACKENDS:
        raise EngineError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    card = ModelCard.load(folder)
    precision = resolve_precision(backend, precision, card, device)
    specs = card_specs(card)
    if backend == "onnxruntime":
        from htt_ros.engines.onnxruntime_backend import OnnxRuntimeRunner

        runners = {}
        for name in GRAPHS:
            path = folder / card.graphs[name].file
            if precision == "int8":
                path = int8_graph(folder, card, name)
            runners[name] = OnnxRuntimeRunner(path, threads=threads, device=device)
    elif backend == "torch":
        from htt_ros.engines.torch_backend import load_torch_runners

        weights = folder / card.extra.get("torch_weights", {}).get("file", "network.pt")
        runners = load_torch_runners(weights, specs, device=device, threads=threads)
    else:
        from htt_ros.engines.tensorrt_backend import load_tensorrt_runners

        runners = load_tensorrt_runners(folder, card, specs, precision)
    for name in GRAPHS:
        check_runner(runners[name], specs[name], name)
    return LoadedModel(folder, card, runners["pose_step"], runners["action"], backend, precision)
