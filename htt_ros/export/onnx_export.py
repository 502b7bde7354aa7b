"""Export a checkpoint to a model folder: ``pose_step.onnx``, ``action.onnx`` and ``model.json``.

The graphs are exported with torch's dynamo-based exporter (``torch.onnx.export(dynamo=True)``,
opset 18, static shapes). The legacy TorchScript exporter (``dynamo=False``) was tried first and
rejected: with torch 2.14 its ``pose_step`` graph disagreed with PyTorch by up to ~1.8 in ONNX
Runtime, while the dynamo graph agrees to ~1e-6 and starts with the Cast TensorRT needs. Opset
18 parses on TensorRT 10.x and 11.x.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import torch

from htt_ros import __version__
from htt_ros.data.dataset import FRAME_RATE
from htt_ros.geometry import OFF_Z, POSE_FRAME, SCALE_FACTOR, TRANS_FACTOR
from htt_ros.labels import LabelSet
from htt_ros.model.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from htt_ros.model.graphs import ActionStep, NaiveWindow, PoseStep, Trunk
from htt_ros.model.htt import HTT
from htt_ros.model_card import (
    Decoding,
    GraphSpec,
    ModelCard,
    TensorSpec,
    sha256_file,
)
from htt_ros.skeleton import BONES, JOINT_NAMES, JOINTS_PER_HAND, hands_for_joint_count
from htt_ros.streaming.preprocess import shrink_for

OPSET = 18
DEFAULT_INPUT_SIZE = (480, 270)  # (W, H), the authors' network input
PAPER_SPACING = 2  # the authors train on every 2nd frame (15 Hz)
POSE_STEP_FILE = "pose_step.onnx"
ACTION_FILE = "action.onnx"


def trained_frame_rate(extra: dict) -> float:
    """Frames per second the checkpoint was trained at: the camera rate over the training
    config's clip spacing (the paper's 15 Hz for the authors' checkpoints, which carry none)."""
    spacing = extra.get("config", {}).get("data", {}).get("spacing", PAPER_SPACING)
    return FRAME_RATE / int(spacing)


def _spec(name: str, tensor: torch.Tensor) -> TensorSpec:
    dtype = {torch.uint8: "uint8", torch.float32: "float32", torch.bool: "bool"}[tensor.dtype]
    return TensorSpec(name, dtype, tuple(tensor.shape))


def _export(
    module: torch.nn.Module, args: tuple[torch.Tensor, ...], names: tuple, path: Path
) -> GraphSpec:
    """Export ``module`` at the shapes of ``args``; names = (input_names, output_names)."""
    input_names, output_names = names
    with torch.no_grad():
        outputs = module(*args)
        outputs = outputs if isinstance(outputs, tuple) else (outputs,)
        torch.onnx.export(
            module,
            args,
            path,
            input_names=list(input_names),
            output_names=list(output_names),
            opset_version=OPSET,
            dynamo=True,
            external_data=False,
            verbose=False,
        )
    return GraphSpec(
        file=path.name,
        sha256=sha256_file(path),
        inputs=tuple(_spec(n, a) for n, a in zip(input_names, args, strict=True)),
        outputs=tuple(_spec(n, o) for n, o in zip(output_names, outputs, strict=True)),
    )


TORCH_WEIGHTS = "network.pt"


def export_benchmark_graphs(
    net: HTT, out_dir: str | Path, input_size: tuple[int, int]
) -> dict[str, GraphSpec]:
    """``trunk.onnx`` (batch 1) and ``naive_window.onnx`` (t frames) for htt-bench."""
    out_dir = Path(out_dir)
    width, height, t = *input_size, net.config.window
    trunk, naive = Trunk(net.eval()).eval(), NaiveWindow(net).eval()
    return {
        "trunk": _export(
            trunk,
            (torch.zeros(1, height, width, 3, dtype=torch.uint8),),
            (trunk.input_names, trunk.output_names),
            out_dir / "trunk.onnx",
        ),
        "naive_window": _export(
            naive,
            (torch.zeros(t, height, width, 3, dtype=torch.uint8), torch.ones(t, dtype=torch.bool)),
            (naive.input_names, naive.output_names),
            out_dir / "naive_window.onnx",
        ),
    }


def export_graphs(
    net: HTT, out_dir: str | Path, input_size: tuple[int, int] = DEFAULT_INPUT_SIZE
) -> dict[str, GraphSpec]:
    """Write ``pose_step.onnx`` and ``action.onnx`` for ``net`` at ``input_size`` ``(W, H)``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    net = net.eval()
    cfg, (width, height) = net.config, input_size
    pose_step, action = PoseStep(net).eval(), ActionStep(net).eval()
    pose_args = (
        torch.zeros(1, height, width, 3, dtype=torch.uint8),
        torch.zeros(cfg.window - 1, cfg.d_model),
        torch.ones(cfg.window, dtype=torch.bool),
    )
    action_args = (
        torch.zeros(cfg.clip_length, cfg.d_model),
        torch.ones(cfg.clip_length, dtype=torch.bool),
    )
    names = (pose_step.input_names, pose_step.output_names)
    return {
        "pose_step": _export(pose_step, pose_args, names, out_dir / POSE_STEP_FILE),
        "action": _export(
            action, action_args, (action.input_names, action.output_names), out_dir / ACTION_FILE
        ),
    }


def _skeleton(num_joints: int) -> tuple[tuple[str, ...], tuple[str, ...], tuple]:
    """(hands, joint names, bones) of the J output joints, hands stacked in output order."""
    hands = hands_for_joint_count(num_joints)
    names = tuple(f"{hand}_{joint}" for hand in hands for joint in JOINT_NAMES)
    bones = tuple(
        (a + h * JOINTS_PER_HAND, b + h * JOINTS_PER_HAND)
        for h in range(len(hands))
        for a, b in BONES
    )
    return hands, names, bones


def _check_labels(labels: LabelSet, net: HTT, source: str) -> None:
    cfg = net.config
    got = (labels.num_joints, len(labels.objects), len(labels.actions))
    want = (cfg.num_joints, cfg.num_objects, cfg.num_actions)
    if got != want:
        raise CheckpointError(
            f"labels from {source} have {got[0]} joints, {got[1]} objects, {got[2]} actions but "
            f"the network has {want[0]}/{want[1]}/{want[2]}; give a matching --labels file"
        )


def export_model_folder(
    checkpoint: str | Path,
    out_dir: str | Path,
    *,
    dataset: str | None = None,
    input_size: tuple[int, int] = DEFAULT_INPUT_SIZE,
    labels_file: str | Path | None = None,
    trust_pickle: bool = False,
) -> ModelCard:
    """Turn an authors' or htt_ros checkpoint into a model folder; returns the model card.

    Labels come from ``labels_file`` if given, else from the checkpoint (htt_ros files) or the
    built-in FPHA/H2O sets. Raises ``CheckpointError`` for unusable checkpoints or labels.
    """
    ckpt = load_checkpoint(checkpoint, dataset=dataset, trust_pickle=trust_pickle)
    net = ckpt.build_model()
    labels = LabelSet.from_file(labels_file) if labels_file is not None else ckpt.labels
    if labels is None:
        raise CheckpointError(
            f"{checkpoint} carries no label names and its sizes are not FPHA's or H2O's; "
            f"give them with --labels FILE (JSON: name, actions[{{name, verb, noun}}], objects, "
            f"num_joints)"
        )
    _check_labels(labels, net, str(labels_file or checkpoint))
    out_dir = Path(out_dir)
    graphs = export_graphs(net, out_dir, input_size)
    # The torch backend (the reference) runs the network itself from these weights.
    net.labels = labels
    save_checkpoint(out_dir / TORCH_WEIGHTS, net, epoch=ckpt.epoch or 0)
    hands, joint_names, bones = _skeleton(net.config.num_joints)
    width, height = input_size
    card = ModelCard(
        dataset=labels.name,
        num_joints=net.config.num_joints,
        hands=hands,
        joint_names=joint_names,
        bones=bones,
        labels=labels,
        window=net.config.window,
        clip_length=net.config.clip_length,
        frame_rate_hz=trained_frame_rate(ckpt.extra),
        input_width=width,
        input_height=height,
        normalisation={
            "layout": "NHWC",
            "dtype": "uint8",
            "channels": "RGB",
            "scale_divisor": 255.0,
            "offset": -0.5,
            "in_graph": True,
        },
        shrink=shrink_for(labels.name),
        decoding=Decoding(TRANS_FACTOR, SCALE_FACTOR, OFF_Z, POSE_FRAME),
        graphs=graphs,
        provenance={
            "checkpoint": Path(checkpoint).name,
            "checkpoint_sha256": ckpt.sha256,
            "checkpoint_kind": ckpt.kind,
            "checkpoint_epoch": str(ckpt.epoch),
            "checkpoint_code_revision": str(ckpt.extra.get("git", "unknown")),
            "htt_ros_version": __version__,
            "torch_version": torch.__version__,
            "exporter": f"torch.onnx.export(dynamo=True), opset {OPSET}",
            "exported_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        },
        extra={
            "torch_weights": {
                "file": TORCH_WEIGHTS,
                "sha256": sha256_file(out_dir / TORCH_WEIGHTS),
            }
        },
    )
    card.write(out_dir)
    return card
