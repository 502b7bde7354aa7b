"""Figures of a replay without labels, drawn from its predictions.jsonl: the action over time
(label and confidence) and each hand's in-view fraction over time."""

from collections import Counter, defaultdict
from pathlib import Path

from htt_ros.bags.predictions_file import read_predictions
from htt_ros.metrics import headless_pyplot
from htt_ros.ros.hand_layout import HAND_COLOURS

ACTION_FIGURE = "action_timeline.png"
IN_VIEW_FIGURE = "in_view.png"
NAMED_ACTIONS = 10  # the most frequent labels get a colour of their own, the rest share grey
NS_PER_S = 1e9


def write_timeline_figures(predictions: Path, out: Path, title: str) -> list[str]:
    """Draw the figures that have data into ``out``; returns their file names."""
    frames: dict[str, list[tuple[float, float]]] = defaultdict(list)  # side -> (t, fraction)
    actions: list[tuple[float, str, float]] = []  # (t, label, confidence)
    first = None
    for line in read_predictions(predictions):
        first = line["stamp_ns"] if first is None else first
        t = (line["stamp_ns"] - first) / NS_PER_S
        if "action" in line:
            actions.append((t, line["action"]["label"], line["action"]["confidence"]))
        for hand in line.get("hands", []):
            frames[hand["side"]].append((t, hand["in_view_fraction"]))
    figures = []
    if actions:
        _plot_actions(actions, out / ACTION_FIGURE, title)
        figures.append(ACTION_FIGURE)
    if frames:
        _plot_in_view(frames, out / IN_VIEW_FIGURE, title)
        figures.append(IN_VIEW_FIGURE)
    return figures


def _plot_actions(actions: list[tuple[float, str, float]], path: Path, title: str) -> None:
    """Confidence over time as a step line, each point coloured by its label."""
    plt = headless_pyplot()
    named = [label for label, _ in Counter(a[1] for a in actions).most_common(NAMED_ACTIONS)]
    colours = {label: plt.get_cmap("tab10")(i) for i, label in enumerate(named)}
    fig, ax = plt.subplots(figsize=(10, 3.5), dpi=120)
    times = [t for t, _, _ in actions]
    ax.step(times, [c for _, _, c in actions], where="post", color="0.7", linewidth=1)
    groups = [(label, [(t, c) for t, a, c in actions if a == label]) for label in named]
    groups.append(("other labels", [(t, c) for t, a, c in actions if a not in colours]))
    for name, points in groups:
        if points:
            xs, ys = zip(*points, strict=True)
            ax.plot(xs, ys, "o", markersize=4, color=colours.get(name, "0.5"), label=name)
    ax.set(xlabel="time since the first frame (s)", ylabel="confidence", ylim=(0, 1.02))
    ax.set_title(f"action over time: {title}", fontsize="medium")
    ax.legend(fontsize="x-small", loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _plot_in_view(frames: dict[str, list[tuple[float, float]]], path: Path, title: str) -> None:
    plt = headless_pyplot()
    fig, ax = plt.subplots(figsize=(10, 3), dpi=120)
    for side, points in sorted(frames.items()):
        xs, ys = zip(*points, strict=True)
        colour = [c / 255 for c in HAND_COLOURS[side]]
        ax.plot(xs, ys, color=colour, linewidth=1, label=f"{side} hand")
    ax.set(xlabel="time since the first frame (s)", ylabel="in-view fraction", ylim=(-0.02, 1.02))
    ax.set_title(f"hands in view: {title}", fontsize="medium")
    ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
