"""HTT's evaluation metrics (Wen et al. 2023, authors' evaluators), numpy only.

Pose: per-joint Euclidean errors on non-padded frames (metres, camera frame). MEPE is the mean
over joints of each joint's mean error; 3D PCK(t) is, per joint, the fraction of errors <= t,
averaged over joints; AUC is the trapezoid area under each joint's PCK curve divided by the
threshold range, averaged over joints. Root-aligned (RA) metrics subtract each hand's wrist
(joint 0) from prediction and ground truth separately and score joints 1..20 only. H2O scores the
left hand (joints 0-20) and the right hand (21-41) separately.

Objects: per-frame accuracy on non-padded frames. Actions: per video (FPHA video / H2O segment),
the argmax of the summed softmax probabilities of all its clips.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import numpy as np

# PCK thresholds in metres (2.5 mm steps), as the authors' evaluators use them.
FPHA_THRESHOLDS = np.linspace(0.0, 0.08, 33)  # absolute, one hand
H2O_THRESHOLDS = np.linspace(0.0, 0.09, 37)  # absolute, per hand
RA_THRESHOLDS = np.linspace(0.0, 0.05, 21)  # root-aligned
PADDING_EPS = 1e-4  # frames with not_padding <= this are padding


@dataclass(frozen=True)
class PoseMetrics:
    """Pose accuracy of one evaluator (one hand, absolute or root-aligned).

    Attributes:
        mepe: mean over joints of the per-joint mean error, metres.
        per_joint: ``[J]`` mean error of each scored joint, metres.
        thresholds: ``[T]`` PCK thresholds, metres.
        pck: ``[T]`` PCK curve averaged over joints.
        auc: area under the PCK curve normalised by the threshold range (0..1).
        num_frames: frames scored.
    """

    mepe: float
    per_joint: np.ndarray
    thresholds: np.ndarray
    pck: np.ndarray
    auc: float
    num_frames: int

    def to_dict(self) -> dict[str, object]:
        """JSON-ready values, lengths in millimetres (as the authors print them)."""
        return {
            "mepe_mm": 1000.0 * self.mepe,
            "auc": self.auc,
            "per_joint_mm": (1000.0 * self.per_joint).tolist(),
            "thresholds_mm": (1000.0 * self.thresholds).tolist(),
            "pck": self.pck.tolist(),
            "num_frames": self.num_frames,
        }


def _valid_frames(num_frames: int, not_padding: np.ndarray | None) -> np.ndarray:
    if not_padding is None:
        return np.ones(num_frames, dtype=bool)
    weights = np.asarray(not_padding, dtype=np.float64).reshape(-1)
    if len(weights) != num_frames:
        raise ValueError(f"not_padding has {len(weights)} entries for {num_frames} frames")
    return weights > PADDING_EPS


def joint_errors(
    pred: np.ndarray,
    gt: np.ndarray,
    not_padding: np.ndarray | None = None,
    root_aligned: bool = False,
) -> np.ndarray:
    """Euclidean errors ``[N_valid, J]`` (``J - 1`` joints when ``root_aligned``) of
    ``pred``/``gt`` ``[N, J, 3]`` (one hand, wrist = joint 0) on non-padded frames."""
    pred, gt = np.asarray(pred, np.float64), np.asarray(gt, np.float64)
    if pred.shape != gt.shape or pred.ndim != 3 or pred.shape[-1] != 3:
        raise ValueError(
            f"expected pred and gt of the same shape [N, J, 3], got {pred.shape} and {gt.shape}"
        )
    keep = _valid_frames(len(gt), not_padding)
    pred, gt = pred[keep], gt[keep]
    if root_aligned:
        pred = pred[:, 1:] - pred[:, :1]
        gt = gt[:, 1:] - gt[:, :1]
    return np.linalg.norm(pred - gt, axis=-1)


def pose_metrics(errors: np.ndarray, thresholds: np.ndarray) -> PoseMetrics:
    """MEPE, PCK curve and AUC of per-joint errors ``[N, J]`` (metres) at ``thresholds``."""
    errors = np.asarray(errors, np.float64)
    thresholds = np.asarray(thresholds, np.float64)
    if errors.ndim != 2 or len(errors) == 0:
        raise ValueError(f"need errors [N, J] with N >= 1 (non-padded frames), got {errors.shape}")
    per_joint = errors.mean(axis=0)
    pck_joint = (errors[None] <= thresholds[:, None, None]).mean(axis=1)  # [T, J]
    span = np.trapezoid(np.ones_like(thresholds), thresholds)
    auc_joint = np.trapezoid(pck_joint, thresholds, axis=0) / span
    return PoseMetrics(
        mepe=float(per_joint.mean()),
        per_joint=per_joint,
        thresholds=thresholds,
        pck=pck_joint.mean(axis=1),
        auc=float(auc_joint.mean()),
        num_frames=len(errors),
    )


def hand_pose_metrics(
    pred: np.ndarray, gt: np.ndarray, not_padding: np.ndarray | None = None
) -> dict[str, PoseMetrics]:
    """The authors' pose evaluators for ``[N, 21, 3]`` (FPHA) or ``[N, 42, 3]`` (H2O) joints.

    Returns ``joints3d`` and ``joints3d_cent`` (root-aligned) for one hand; for two hands
    ``left_joints3d``, ``left_joints3d_cent``, ``right_joints3d``, ``right_joints3d_cent``.
    """
    pred, gt = np.asarray(pred), np.asarray(gt)
    if gt.shape[1:] == (21, 3):
        hands, absolute = {"": slice(0, 21)}, FPHA_THRESHOLDS
    elif gt.shape[1:] == (42, 3):
        hands, absolute = {"left_": slice(0, 21), "right_": slice(21, 42)}, H2O_THRESHOLDS
    else:
        raise ValueError(f"expected joints [N, 21, 3] or [N, 42, 3], got {gt.shape}")
    out = {}
    for prefix, sl in hands.items():
        p, g = pred[:, sl], gt[:, sl]
        out[f"{prefix}joints3d"] = pose_metrics(joint_errors(p, g, not_padding), absolute)
        out[f"{prefix}joints3d_cent"] = pose_metrics(
            joint_errors(p, g, not_padding, root_aligned=True), RA_THRESHOLDS
        )
    return out


def object_accuracy(
    pred: np.ndarray, labels: np.ndarray, not_padding: np.ndarray | None = None
) -> float:
    """Per-frame accuracy of object predictions on non-padded frames.

    ``pred`` is ``[N]`` class indices or ``[N, C]`` logits/probabilities (argmax taken).
    """
    pred, labels = np.asarray(pred), np.asarray(labels).reshape(-1)
    if pred.ndim == 2:
        pred = pred.argmax(axis=1)
    keep = _valid_frames(len(labels), not_padding)
    if not keep.any():
        raise ValueError("no non-padded frames to score")
    return float((pred[keep] == labels[keep]).mean())


def softmax(logits: np.ndarray, axis: int = -1) -> np.ndarray:
    """Numerically stable softmax."""
    shifted = np.exp(logits - np.max(logits, axis=axis, keepdims=True))
    return shifted / shifted.sum(axis=axis, keepdims=True)


@dataclass(frozen=True)
class VideoActionResult:
    """Video-level action recognition.

    Attributes:
        accuracy: correct videos / videos (the authors' "action recall-rate on video").
        clip_accuracy: plain per-clip argmax accuracy, for comparison.
        videos: video keys in first-seen order.
        predictions: ``[V]`` predicted action per video.
        labels: ``[V]`` ground-truth action per video.
        scores: ``[V, A]`` summed clip probabilities per video.
    """

    accuracy: float
    clip_accuracy: float
    videos: list[Hashable]
    predictions: np.ndarray
    labels: np.ndarray
    scores: np.ndarray


def video_action_accuracy(
    clip_probs: np.ndarray, clip_labels: Sequence[int] | np.ndarray, video_keys: Sequence[Hashable]
) -> VideoActionResult:
    """Soft voting: sum the softmax probabilities ``[C, A]`` of the clips of each video (the
    clips sharing a key) and take the argmax. All clips of a video must share its label."""
    probs = np.asarray(clip_probs, np.float64)
    labels = np.asarray(clip_labels).reshape(-1)
    if probs.ndim != 2 or len(probs) != len(labels) or len(labels) != len(video_keys):
        raise ValueError(
            f"expected clip_probs [C, A] and C labels and keys, got {probs.shape}, "
            f"{len(labels)} labels, {len(video_keys)} keys"
        )
    index: dict[Hashable, int] = {}
    video_label: list[int] = []
    for key, label in zip(video_keys, labels, strict=True):
        if key not in index:
            index[key] = len(index)
            video_label.append(int(label))
        elif video_label[index[key]] != label:
            raise ValueError(
                f"video {key!r} has clips labelled {video_label[index[key]]} and {label}"
            )
    scores = np.zeros((len(index), probs.shape[1]))
    np.add.at(scores, [index[k] for k in video_keys], probs)
    predictions = scores.argmax(axis=1)
    truth = np.asarray(video_label)
    return VideoActionResult(
        accuracy=float((predictions == truth).mean()),
        clip_accuracy=float((probs.argmax(axis=1) == labels).mean()),
        videos=list(index),
        predictions=predictions,
        labels=truth,
        scores=scores,
    )


def confusion_matrix(pred: np.ndarray, labels: np.ndarray, num_classes: int) -> np.ndarray:
    """``[num_classes, num_classes]`` counts, rows = ground truth, columns = prediction."""
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(labels).reshape(-1), np.asarray(pred).reshape(-1)), 1)
    return matrix


def headless_pyplot() -> ModuleType:
    """matplotlib's pyplot on the file-only Agg backend (no display needed)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as err:
        raise ImportError("plotting needs matplotlib: pip install matplotlib") from err
    return plt


def plot_pck(curves: Mapping[str, PoseMetrics], path: str | Path, title: str = "3D PCK") -> None:
    """Save the PCK curves (one line per evaluator, AUC in the legend) as a PNG; thresholds in
    millimetres."""
    plt = headless_pyplot()
    fig, ax = plt.subplots(figsize=(6, 4.5), dpi=120)
    for name, m in curves.items():
        ax.plot(1000 * m.thresholds, m.pck, label=f"{name} (AUC {m.auc:.3f})")
    ax.set(xlabel="error threshold (mm)", ylabel="3D PCK", ylim=(0, 1), title=title)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize="small")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def plot_confusion(
    matrix: np.ndarray, names: Sequence[str], path: str | Path, title: str = "actions"
) -> None:
    """Save a row-normalised confusion matrix (rows = ground truth) as a PNG."""
    plt = headless_pyplot()
    rows = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    size = max(5.0, 0.22 * len(names) + 2)
    fig, ax = plt.subplots(figsize=(size, size), dpi=120)
    ax.imshow(rows, cmap="Blues", vmin=0, vmax=1)
    ticks = np.arange(len(names))
    ax.set_xticks(ticks, names, rotation=90, fontsize="x-small")
    ax.set_yticks(ticks, names, fontsize="x-small")
    ax.set(xlabel="predicted", ylabel="ground truth", title=title)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
