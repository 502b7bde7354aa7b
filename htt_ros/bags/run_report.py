"""The report of a replay without ground truth: what ran, how fast, and figures of what the
model said over time (from its predictions.jsonl)."""

import json
from pathlib import Path
from typing import Any

from htt_ros.bags.evaluation import (
    ReplayRun,
    latency_histogram,
    text_table,
    timing_report,
    timing_rows,
)
from htt_ros.bags.timeline_figures import write_timeline_figures


def unlabelled_report(run: ReplayRun) -> dict[str, Any]:
    """Counts, latency and throughput of ``run`` (JSON-ready)."""
    return {
        "mode": run.mode,
        "frames_sent": run.frames_sent,
        "poses": len(run.poses),
        "actions": len(run.action_scores),
        "dropped_frames": run.dropped_frames,
        **timing_report(run),
        "details": run.details,
    }


def write_unlabelled_report(
    out: Path, run: ReplayRun, predictions: Path, where: dict[str, str], title: str
) -> str:
    """``report.json``, ``summary.txt``, the latency histogram and the timeline figures (titled
    ``title``, e.g. the input's name) into ``out``; returns the summary."""
    out.mkdir(parents=True, exist_ok=True)
    report = unlabelled_report(run) | where
    figures = write_timeline_figures(predictions, out, f"{run.mode} replay of {title}")
    if run.latencies_ms:
        latency_histogram(run, out / "latency.png")
        figures.append("latency.png")
    report["figures"] = figures
    report["predictions"] = predictions.name
    (out / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    rows = [
        ("mode", run.mode),
        ("frames sent", run.frames_sent),
        ("poses", report["poses"]),
        ("actions", report["actions"]),
        ("dropped frames", run.dropped_frames),
    ]
    summary = text_table(rows + timing_rows(report))
    (out / "summary.txt").write_text(summary + "\n")
    return summary
