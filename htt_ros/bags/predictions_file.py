"""``predictions.jsonl``: a replay's outputs as JSON lines, one per processed frame and one per
action, written and flushed as they come (a run stopped halfway keeps what it wrote).

A frame's line::

    {"stamp_ns": 1700000000033333333,
     "hands": [{"side": "right", "joints3d": [[x, y, z], ...21], "joints2d": [[u, v], ...21],
                "in_view_fraction": 1.0}],
     "object": {"class_id": 3, "name": "milk", "confidence": 0.71}}

``joints3d`` are metres in the camera's optical frame, ``joints2d`` pixels of the input image.
An action's line::

    {"stamp_ns": <newest frame>,
     "action": {"window_start_ns", "stamp_ns", "window_frames", "class_id", "label", "verb",
                "noun", "confidence", "top_k": [{"class_id", "label", "score"}, ...]}}

``pandas.read_json(path, lines=True)`` reads the file into one table.
"""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from htt_ros.msg import Action, HandPoses
from htt_ros.ros.message_builders import SIDES
from htt_ros.ros.message_results import time_ns

FILE_NAME = "predictions.jsonl"
SIDE_NAMES = {value: name for name, value in SIDES.items()}


def frame_line(msg: HandPoses) -> dict[str, Any]:
    """The line of one frame's ``HandPoses``."""
    return {
        "stamp_ns": time_ns(msg.header.stamp),
        "hands": [
            {
                "side": SIDE_NAMES[hand.side],
                "joints3d": [[p.x, p.y, p.z] for p in hand.joints_3d],
                "joints2d": [[p.x, p.y] for p in hand.joints_2d],
                "in_view_fraction": hand.in_view_fraction,
            }
            for hand in msg.hands
        ],
        "object": {
            "class_id": msg.object.class_id,
            "name": msg.object.name,
            "confidence": msg.object.confidence,
        },
    }


def action_line(msg: Action) -> dict[str, Any]:
    """The line of one ``Action``."""
    stamp = time_ns(msg.header.stamp)
    return {
        "stamp_ns": stamp,
        "action": {
            "window_start_ns": time_ns(msg.window_start),
            "stamp_ns": stamp,
            "window_frames": msg.window_frames,
            "class_id": msg.class_id,
            "label": msg.label,
            "verb": msg.verb,
            "noun": msg.noun,
            "confidence": msg.confidence,
            "top_k": [
                {"class_id": c.class_id, "label": c.label, "score": c.score} for c in msg.top_k
            ],
        },
    }


class PredictionsFile:
    """Writes the lines into a new ``predictions.jsonl``, each flushed at once."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._file = path.open("w", encoding="utf-8")

    def hands(self, msg: HandPoses) -> None:
        self._write(frame_line(msg))

    def action(self, msg: Action) -> None:
        self._write(action_line(msg))

    def close(self) -> None:
        self._file.close()

    def _write(self, line: dict[str, Any]) -> None:
        self._file.write(json.dumps(line) + "\n")
        self._file.flush()


def read_predictions(path: Path) -> Iterator[dict[str, Any]]:
    """The lines of a ``predictions.jsonl`` one by one (a torn last line is left out)."""
    with path.open(encoding="utf-8") as file:
        for text in file:
            if text.endswith("\n"):
                yield json.loads(text)
