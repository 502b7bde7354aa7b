"""``htt-replay --out-bag``: the node's topics written into a new MCAP rosbag2.

Each output is logged at the log time of the input image it describes, so ``ros2 bag play``
replays the outputs in step with the copied camera topics; the htt_ros schemas go into the bag
(:func:`~htt_ros.bags.bag_io.typestore`), so RViz, Foxglove and ``htt-replay`` read it back.
Markers and annotated images come from the node's own builders.
"""

from pathlib import Path

import numpy as np
from builtin_interfaces.msg import Time

from htt_ros.bags.bag_io import BagWriter
from htt_ros.model_card import ModelCard
from htt_ros.msg import Action, HandPoses
from htt_ros.ros import output_topics as topics
from htt_ros.ros.annotate import annotate
from htt_ros.ros.image_messages import rgb_to_image_msg
from htt_ros.ros.markers import hand_markers
from htt_ros.ros.message_builders import hand_labels_msg
from htt_ros.streaming.results import ActionResult, PoseResult

HANDS_TOPIC = f"/{topics.HANDS}"
ACTION_TOPIC = f"/{topics.ACTION}"
LABELS_TOPIC = f"/{topics.LABELS}"
MARKERS_TOPIC = f"/{topics.MARKERS}"
ANNOTATED_TOPIC = f"/{topics.ANNOTATED}"


class OutputBag:
    """The node's outputs (and, with ``copy_input``, the input camera topics) in a new bag."""

    def __init__(
        self,
        path: Path,
        card: ModelCard,
        model_name: str,
        copy_input: bool = True,
        annotated: bool = False,
    ) -> None:
        self.card, self.model_name = card, model_name
        self.copy_input, self.annotated = copy_input, annotated
        self._writer = BagWriter(path, "mcap").__enter__()
        self._labelled = False

    def input_message(self, topic: str, msgtype: str, log_ns: int, cdr: bytes) -> None:
        """The labels before the first message; the message itself when copying the input."""
        if not self._labelled:
            stamp = Time(sec=log_ns // 1_000_000_000, nanosec=log_ns % 1_000_000_000)
            labels = hand_labels_msg(self.card, self.model_name, stamp)
            self._writer.write(LABELS_TOPIC, labels, log_ns, latched=True)
            self._labelled = True
        if self.copy_input:
            self._writer.write_raw(topic, msgtype, cdr, log_ns)

    def hands(
        self,
        msg: HandPoses,
        pose: PoseResult,
        action: ActionResult | None,
        log_ns: int,
        rgb: np.ndarray | None,
    ) -> None:
        """One frame's poses and markers, and its annotated image when asked (``rgb`` is the
        frame the pose describes; None when it was not kept)."""
        self._writer.write(HANDS_TOPIC, msg, log_ns)
        self._writer.write(MARKERS_TOPIC, hand_markers(pose, self.card, action), log_ns)
        if self.annotated and rgb is not None:
            image = rgb_to_image_msg(annotate(rgb, pose, self.card, action), msg.header)
            self._writer.write(ANNOTATED_TOPIC, image, log_ns)

    def action(self, msg: Action, log_ns: int) -> None:
        self._writer.write(ACTION_TOPIC, msg, log_ns)

    def close(self) -> None:
        self._writer.__exit__()
