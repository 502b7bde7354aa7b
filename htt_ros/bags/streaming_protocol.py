"""``htt-replay --protocol streaming``: the node's modes scored as a robot would live them.

Every output counts from the moment it is published, never earlier (the streaming evaluation
of Furnari and Farinella, "Rolling-Unrolling LSTMs", TPAMI 2020), and is scored against the
ground truth of the frame it describes:

- per-frame online action accuracy: at every camera frame of a ground-truth sequence, the
  latest action published by then (none yet counts as wrong) against that frame's action;
- action delay: for each sequence, the time from its first frame until the published action
  is right and stays right to the sequence's end; sequences where it never is are counted;
- pose MEPE per hand of each mode and lag, and pose latency: publication time minus the
  stamp of the frame the pose describes (look-ahead and computing together).

This is another measurement than the paper's video accuracy (``--protocol paper``): that one
sums the probabilities of whole videos after the fact.
"""

import json
from pathlib import Path
from typing import Any

import numpy as np

from htt_ros.bags.evaluation import GroundTruth, ReplayRun, evaluate, percentiles
from htt_ros.metrics import headless_pyplot

PROTOCOLS = ("paper", "streaming")
NS_PER_S = 1e9
FIGURE = "streaming.png"


def default_lags(window: int) -> list[int]:
    """Sliding lags to compare: 0, t/4, t/2 and t-1 (0, 4, 8, 15 for t=16)."""
    return sorted({0, window // 4, window // 2, window - 1})


def run_label(report: dict[str, Any]) -> str:
    """``segment`` or ``sliding lag 4``: the name of one run in tables and the figure."""
    details = report["details"]
    if details.get("stream_mode") == "sliding":
        return f"sliding lag {details['lag']}"
    return str(details.get("stream_mode", report["mode"]))


def online_action(run: ReplayRun, truth: GroundTruth) -> dict[str, Any]:
    """Per-frame accuracy of the latest published action and per-sequence delays."""
    order = np.argsort(run.action_available_ns, kind="stable")
    published = np.asarray(run.action_available_ns, dtype=np.int64)[order]
    classes = np.array([int(run.action_scores[i][1].argmax()) for i in order], dtype=np.int64)
    stamps = np.array(sorted(truth.joints3d), dtype=np.int64)
    hits, delays, never = [], [], 0
    for first, last, action in truth.sequences:
        frames = stamps[(stamps >= first) & (stamps <= last)]
        latest = np.searchsorted(published, frames, side="right") - 1  # -1: nothing yet
        right = (latest >= 0) & (classes[np.maximum(latest, 0)] == action)
        hits.append(right)
        if not len(right) or not right[-1]:
            never += 1
            continue
        wrong = np.flatnonzero(~right)
        settle = wrong[-1] + 1 if len(wrong) else 0  # first frame of the final right stretch
        since = max(int(published[latest[settle]]), first)
        delays.append((since - first) / NS_PER_S)
    all_hits = np.concatenate(hits) if hits else np.zeros(0, bool)
    return {
        "frame_accuracy": float(all_hits.mean()) if len(all_hits) else None,
        "frames": len(all_hits),
        "sequences": len(truth.sequences),
        "never_right": never,
        "delay_s": percentiles(delays),
    }


def pose_latency_ms(run: ReplayRun) -> dict[str, float | int]:
    """Publication time minus the described frame's stamp, per pose."""
    return percentiles(
        [(available - stamp) / 1e6 for stamp, available in run.pose_available_ns.items()]
    )


def streaming_scores(run: ReplayRun, truth: GroundTruth) -> dict[str, Any]:
    """The streaming protocol's numbers of one run, to merge into its report."""
    return {"online_action": online_action(run, truth), "pose_latency_ms": pose_latency_ms(run)}


def table_row(report: dict[str, Any]) -> dict[str, Any]:
    """The headline numbers of one run (a row of the README table)."""
    pose = report.get("pose", {})
    online = report.get("online_action", {})
    latency = report.get("pose_latency_ms", {})
    return {
        "run": run_label(report),
        "mepe_mm": {name: m["mepe_mm"] for name, m in pose.items()},
        "video_accuracy": report["action"]["video_accuracy"],
        "frame_accuracy": online.get("frame_accuracy"),
        "action_delay_s_p50": online.get("delay_s", {}).get("p50"),
        "never_right": online.get("never_right"),
        "pose_latency_ms_p50": latency.get("p50"),
    }


def markdown_table(rows: list[dict[str, Any]]) -> str:
    """The rows as a markdown table (MEPE per evaluator in mm)."""
    evaluators = list(rows[0]["mepe_mm"]) if rows else []

    def fmt(value: Any, spec: str) -> str:
        return "-" if value is None else format(value, spec)

    head = ["run", *(f"MEPE {e} (mm)" for e in evaluators), "video acc.", "online frame acc."]
    head += ["action delay p50 (s)", "never right", "pose latency p50 (ms)"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [r["run"], *(fmt(r["mepe_mm"].get(e), ".1f") for e in evaluators)]
        cells += [fmt(r["video_accuracy"], ".3f"), fmt(r["frame_accuracy"], ".3f")]
        cells += [fmt(r["action_delay_s_p50"], ".2f"), fmt(r["never_right"], "d")]
        cells += [fmt(r["pose_latency_ms_p50"], ".0f")]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot_accuracy_latency(rows: list[dict[str, Any]], path: Path, title: str) -> None:
    """One point per run: pose MEPE against pose latency, online action accuracy against
    action delay."""
    plt = headless_pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4), dpi=120)
    for r in rows:
        mepe = next(iter(r["mepe_mm"].values()), None)
        if r["pose_latency_ms_p50"] is not None and mepe is not None:
            left.plot(r["pose_latency_ms_p50"], mepe, "o")
            left.annotate(r["run"], (r["pose_latency_ms_p50"], mepe), fontsize="small")
        if r["action_delay_s_p50"] is not None and r["frame_accuracy"] is not None:
            right.plot(r["action_delay_s_p50"], 100 * r["frame_accuracy"], "o")
            right.annotate(
                r["run"], (r["action_delay_s_p50"], 100 * r["frame_accuracy"]), fontsize="small"
            )
    evaluator = next(iter(rows[0]["mepe_mm"]), "joints3d") if rows else "joints3d"
    left.set(xlabel="pose latency p50 (ms)", ylabel=f"MEPE {evaluator} (mm)", title="pose")
    right.set(
        xlabel="action delay p50 (s)", ylabel="online per-frame accuracy (%)", title="action"
    )
    fig.suptitle(title, fontsize="medium")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def write_streaming_report(
    out: Path, runs: list[ReplayRun], truth: GroundTruth, where: dict[str, str]
) -> str:
    """Score every run, write ``report.json`` (every run's report and the table),
    ``summary.txt`` (the table in markdown) and the figure; returns the summary."""
    reports = []
    for run in runs:
        report, _ = evaluate(run, truth, len(truth.action_names))
        reports.append(report | streaming_scores(run, truth))
    rows = [table_row(r) for r in reports]
    out.mkdir(parents=True, exist_ok=True)
    mode = runs[0].mode if runs else "offline"
    plot_accuracy_latency(
        rows, out / FIGURE, f"streaming protocol, {mode} replay, {truth.dataset}"
    )
    summary = markdown_table(rows)
    report = {"protocol": "streaming", "mode": mode, **where, "table": rows, "runs": reports}
    report["figures"] = [FIGURE]
    (out / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    (out / "summary.txt").write_text(summary + "\n")
    return summary
