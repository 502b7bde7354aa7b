"""Replay results against a bag's ground truth: metrics, the report folder and its figures.
Without ground truth (any recording but htt-make-bag's bags), the report holds what needs no
labels: frames, poses, latency and throughput.

Poses are matched to ground truth by image stamp. Actions are scored per sequence (a sequence
is the frames between two ``/ground_truth/action`` stamps' windows): the action scores the
replay saw for frames of that sequence are summed and the argmax is its prediction, as the paper
votes across clips. Offline replay sums the full smoothed probabilities; live replay only sees
``Action.top_k``, so classes outside the top k count as 0 there (same argmax unless the top k
differ across windows in a way that reorders the sums).
"""

import json
from array import array
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from htt_ros.bags.bag_io import (
    CAMERA_INFO_TOPIC,
    GT_ACTION_TOPIC,
    GT_HANDS_TOPIC,
    GT_LABELS_TOPIC,
    BagError,
    bag_info,
    read_messages,
    stamp_ns,
)
from htt_ros.bags.timeline_figures import write_timeline_figures
from htt_ros.metrics import (
    PoseMetrics,
    confusion_matrix,
    hand_pose_metrics,
    headless_pyplot,
    plot_confusion,
    plot_pck,
)
from htt_ros.model_card import ModelCard
from htt_ros.ros.hand_layout import HAND_COLOURS
from htt_ros.ros.image_conversion import compressed_msg_to_rgb, image_msg_to_rgb
from htt_ros.skeleton import BONES, JOINTS_PER_HAND, hands_for_joint_count

SCORES_FROM = {"live": "Action.top_k", "paper": "clip probabilities"}  # else smoothed ones
TRUTH_COLOUR = (40, 220, 60)  # RGB: ground truth skeletons in the frame strip
STRIP_FRAMES = 6


@dataclass
class PosePrediction:
    """One frame's output: ``joints3d (J, 3)`` metres, ``joints2d (J, 2)`` pixels, the object."""

    joints3d: np.ndarray
    joints2d: np.ndarray
    object_id: int


@dataclass
class ReplayRun:
    """What one replay produced, keyed by image stamp (ns).

    ``pose_count`` poses came out; ``latencies_ms`` holds one per pose (image sent to pose
    received), 8 bytes each; ``dropped_frames`` images that never reached inference. Only with
    ``keep_outputs`` (scoring against ground truth needs them) does the run keep each output:
    ``poses``, ``action_scores`` ``(newest frame stamp, (A,) scores)``, and when, in the bag's
    time, each was published (the streaming protocol's clock): ``pose_available_ns`` (by pose
    stamp) and ``action_available_ns`` (one per action score). Without, they stay empty and a
    long recording's run grows by its latencies alone.
    """

    mode: str
    keep_outputs: bool = True
    poses: dict[int, PosePrediction] = field(default_factory=dict)
    action_scores: list[tuple[int, np.ndarray]] = field(default_factory=list)
    pose_available_ns: dict[int, int] = field(default_factory=dict)
    action_available_ns: list[int] = field(default_factory=list)
    pose_count: int = 0
    latencies_ms: array = field(default_factory=lambda: array("d"))
    frames_sent: int = 0
    wall_s: float = 0.0
    dropped_frames: int = 0
    details: dict[str, Any] = field(default_factory=dict)

    def add_pose(self, stamp: int, prediction: PosePrediction) -> None:
        """Count a pose; keep it with ``keep_outputs``."""
        self.pose_count += 1
        if self.keep_outputs:
            self.poses[stamp] = prediction


@dataclass
class GroundTruth:
    """The bag's ground truth: per-frame joints and objects by stamp, per-sequence actions
    ``(first stamp, last stamp, action id)`` and the label names."""

    joints3d: dict[int, np.ndarray]
    joints2d: dict[int, np.ndarray]
    objects: dict[int, int]
    sequences: list[tuple[int, int, int]]
    action_names: list[str]
    object_names: list[str]
    dataset: str


def read_ground_truth(bag: Path) -> GroundTruth:
    """:raises BagError: listing the bag's topics when the ground truth topics are missing."""
    bag_info(bag).require(GT_HANDS_TOPIC, GT_ACTION_TOPIC, GT_LABELS_TOPIC, CAMERA_INFO_TOPIC)
    truth = GroundTruth({}, {}, {}, [], [], [], "")
    for topic, _, msg in read_messages(bag, [GT_HANDS_TOPIC, GT_ACTION_TOPIC, GT_LABELS_TOPIC]):
        if topic == GT_LABELS_TOPIC:
            truth.action_names, truth.object_names = (
                list(msg.action_labels),
                list(msg.object_names),
            )
            truth.dataset = msg.dataset
        elif topic == GT_HANDS_TOPIC:
            stamp = stamp_ns(msg)
            truth.joints3d[stamp] = np.array(
                [[p.x, p.y, p.z] for hand in msg.hands for p in hand.joints_3d]
            )
            truth.joints2d[stamp] = np.array(
                [[p.x, p.y] for hand in msg.hands for p in hand.joints_2d]
            )
            truth.objects[stamp] = msg.object.class_id
        else:
            start = msg.window_start.sec * 1_000_000_000 + msg.window_start.nanosec
            truth.sequences.append((start, stamp_ns(msg), msg.class_id))
    return truth


def check_labels(truth: GroundTruth, card: ModelCard) -> None:
    """:raises BagError: when the bag's label set is not the model's."""
    joints = len(next(iter(truth.joints3d.values()))) if truth.joints3d else card.num_joints
    if (
        truth.action_names != list(card.labels.action_names)
        or truth.object_names != list(card.labels.objects)
        or joints != card.num_joints
    ):
        raise BagError(
            f"the bag's ground truth ({truth.dataset}: {len(truth.action_names)} actions, "
            f"{len(truth.object_names)} objects, {joints} joints) is not labelled like the "
            f"model ({card.labels.name}: {len(card.labels.actions)} actions, "
            f"{len(card.labels.objects)} objects, {card.num_joints} joints); replay a model "
            f"trained on the bag's data set"
        )


def percentiles(values: Sequence[float]) -> dict[str, float | int]:
    """Count, p50, p90, p99, max and mean of ``values`` (only the count when empty)."""
    if not values:
        return {"count": 0}
    p50, p90, p99 = np.percentile(values, [50, 90, 99]).tolist()
    return {
        "count": len(values),
        "p50": p50,
        "p90": p90,
        "p99": p99,
        "max": float(max(values)),
        "mean": float(np.mean(values)),
    }


def evaluate(
    run: ReplayRun, truth: GroundTruth | None, num_actions: int
) -> tuple[dict[str, Any], dict[str, PoseMetrics]]:
    """The report's numbers (JSON-ready; lengths in millimetres, times in ms and seconds) and
    the pose metrics per evaluator (for the PCK figure); without ``truth`` only those that need
    no labels."""
    report: dict[str, Any] = {
        "mode": run.mode,
        "frames_sent": run.frames_sent,
        "poses": run.pose_count,
        "dropped_frames": run.dropped_frames,
    }
    metrics: dict[str, PoseMetrics] = {}
    if truth is not None:
        metrics = _score(run, truth, num_actions, report)
    report["latency_ms"] = percentiles(run.latencies_ms)
    report["throughput"] = {
        "wall_s": run.wall_s,
        "frames_per_s": run.frames_sent / run.wall_s if run.wall_s else None,
        "poses_per_s": run.pose_count / run.wall_s if run.wall_s else None,
    }
    report["details"] = run.details
    return report, metrics


def _score(
    run: ReplayRun, truth: GroundTruth, num_actions: int, report: dict[str, Any]
) -> dict[str, PoseMetrics]:
    """Accuracy against ``truth`` into ``report``; the pose metrics per evaluator."""
    metrics: dict[str, PoseMetrics] = {}
    stamps = sorted(set(run.poses) & set(truth.joints3d))
    report |= {
        "dataset": truth.dataset,
        "frames_in_bag": len(truth.joints3d),
        "poses_matched": len(stamps),
    }
    if stamps:
        pred = np.stack([run.poses[s].joints3d for s in stamps])
        gt = np.stack([truth.joints3d[s] for s in stamps])
        metrics = hand_pose_metrics(pred, gt)
        report["pose"] = {name: m.to_dict() for name, m in metrics.items()}
        hits = [run.poses[s].object_id == truth.objects[s] for s in stamps]
        report["object_accuracy"] = float(np.mean(hits))
    predictions, labels = [], []
    for first, last, action in truth.sequences:
        scores = np.zeros(num_actions)
        for stamp, s in run.action_scores:
            if first <= stamp <= last:
                scores += s
        predictions.append(int(scores.argmax()) if scores.any() else -1)
        labels.append(action)
    covered = [p >= 0 for p in predictions]
    report["action"] = {
        "sequences": len(labels),
        "sequences_without_action": covered.count(False),
        "video_accuracy": float(np.mean(np.equal(predictions, labels))) if labels else None,
        "predictions": predictions,
        "labels": labels,
        "scores_from": SCORES_FROM.get(run.mode, "smoothed probabilities"),
    }
    return metrics


def summary_table(report: dict[str, Any]) -> str:
    """A short text table of the headline numbers."""
    labelled = "frames_in_bag" in report
    rows = [
        ("mode", report["mode"]),
        (
            ("frames sent / in bag", f"{report['frames_sent']} / {report['frames_in_bag']}")
            if labelled
            else ("frames sent", report["frames_sent"])
        ),
        (
            ("poses (matched)", f"{report['poses']} ({report['poses_matched']})")
            if labelled
            else ("poses", report["poses"])
        ),
        ("dropped frames", report["dropped_frames"]),
    ]
    for name, m in report.get("pose", {}).items():
        rows.append((f"MEPE {name} (mm)", f"{m['mepe_mm']:.1f}  AUC {m['auc']:.3f}"))
    if "object_accuracy" in report:
        rows.append(("object accuracy (frames)", f"{report['object_accuracy']:.3f}"))
    action = report.get("action", {})
    if action.get("video_accuracy") is not None:
        rows.append(
            (
                "action accuracy (sequences)",
                f"{action['video_accuracy']:.3f} of {action['sequences']}",
            )
        )
    lat = report["latency_ms"]
    if lat["count"]:
        rows.append(
            (
                "latency ms p50/p90/p99/max",
                f"{lat['p50']:.1f} / {lat['p90']:.1f} / {lat['p99']:.1f} / {lat['max']:.1f}",
            )
        )
    fps = report["throughput"]["frames_per_s"]
    if fps:
        rows.append(("throughput (frames/s)", f"{fps:.1f}"))
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


def _draw_skeleton(
    image: np.ndarray, joints2d: np.ndarray, colours: list[tuple[int, int, int]]
) -> None:
    """Bones and joints of each hand (21 joints each) of ``joints2d (J, 2)`` onto ``image``."""
    for h, colour in enumerate(colours):
        points = np.round(joints2d[h * JOINTS_PER_HAND : (h + 1) * JOINTS_PER_HAND]).astype(int)
        for a, b in BONES:
            cv2.line(image, points[a].tolist(), points[b].tolist(), colour, 1, cv2.LINE_AA)
        for p in points.tolist():
            cv2.circle(image, p, 2, colour, -1, cv2.LINE_AA)


def _strip(bag: Path, image_topic: str, run: ReplayRun, truth: GroundTruth, path: Path) -> bool:
    """Frames spread over the bag with the true (green) and predicted (hand colours) 2D
    skeletons; False when no frame has a prediction."""
    matched = sorted(set(run.poses) & set(truth.joints2d))
    if not matched:
        return False
    picks = {
        matched[i] for i in np.linspace(0, len(matched) - 1, STRIP_FRAMES).round().astype(int)
    }
    tiles = []
    for _, _, msg in read_messages(bag, [image_topic]):
        stamp = stamp_ns(msg)
        if stamp not in picks:
            continue
        rgb = image_msg_to_rgb(msg) if hasattr(msg, "encoding") else compressed_msg_to_rgb(msg)
        image = np.array(rgb)
        hands = hands_for_joint_count(len(truth.joints2d[stamp]))
        _draw_skeleton(image, truth.joints2d[stamp], [TRUTH_COLOUR] * len(hands))
        _draw_skeleton(image, run.poses[stamp].joints2d, [HAND_COLOURS[h] for h in hands])
        tiles.append((stamp, image))
    plt = headless_pyplot()
    fig, axes = plt.subplots(
        1, len(tiles), figsize=(3.2 * len(tiles), 2.4), dpi=120, squeeze=False
    )
    first = min(truth.joints2d)
    for ax, (stamp, image) in zip(axes[0], tiles, strict=True):
        ax.imshow(image)
        ax.set_title(f"t = {(stamp - first) / 1e9:.2f} s", fontsize="small")
        ax.axis("off")
    fig.suptitle(
        f"{run.mode} replay: predicted (orange right / blue left) vs true (green) 2D skeletons",
        fontsize="medium",
    )
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return True


def _latency_histogram(run: ReplayRun, path: Path) -> None:
    plt = headless_pyplot()
    fig, ax = plt.subplots(figsize=(6, 4), dpi=120)
    values = np.asarray(run.latencies_ms)
    ax.hist(values, bins=40, color="tab:blue")
    for q, style in ((50, "-"), (90, "--"), (99, ":")):
        x = float(np.percentile(values, q))
        ax.axvline(x, color="k", linestyle=style, label=f"p{q} {x:.1f} ms")
    what = "image published to pose received" if run.mode == "live" else "frame pushed to pose out"
    ax.set(xlabel="latency (ms)", ylabel="poses", title=f"{run.mode} latency: {what}")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def write_report(
    out: Path,
    report: dict[str, Any],
    curves: dict[str, PoseMetrics],
    run: ReplayRun,
    truth: GroundTruth | None,
    bag: Path,
    image_topic: str,
    predictions: Path | None = None,
) -> str:
    """Write ``report.json``, ``summary.txt`` and the figures into ``out`` (those that need
    labels only with ``truth``, the timelines of ``predictions.jsonl`` when given); returns
    the summary."""
    out.mkdir(parents=True, exist_ok=True)
    figures = []
    if curves:
        plot_pck(
            curves,
            out / "pck.png",
            title=f"3D PCK, {run.mode} replay, {report['poses_matched']} frames",
        )
        figures.append("pck.png")
    action = report.get("action", {"predictions": [], "labels": []})
    pairs = [
        (p, t) for p, t in zip(action["predictions"], action["labels"], strict=True) if p >= 0
    ]
    if pairs and truth is not None:
        pred, labels = np.array(pairs).T
        matrix = confusion_matrix(pred, labels, len(truth.action_names))
        plot_confusion(
            matrix,
            truth.action_names,
            out / "confusion.png",
            title=f"actions per sequence ({run.mode} replay, {len(pairs)} sequences)",
        )
        figures.append("confusion.png")
    if run.latencies_ms:
        _latency_histogram(run, out / "latency.png")
        figures.append("latency.png")
    if truth is not None and _strip(bag, image_topic, run, truth, out / "frames.png"):
        figures.append("frames.png")
    if predictions is not None:
        figures += write_timeline_figures(predictions, out, f"{run.mode} replay of {bag.name}")
    report["figures"] = figures
    (out / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    summary = summary_table(report)
    (out / "summary.txt").write_text(summary + "\n")
    return summary
