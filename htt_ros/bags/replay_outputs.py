"""The :class:`~htt_ros.bags.output_sink.OutputSink` of ``htt-replay``: predictions.jsonl
always, and the output bag and the annotated video when asked.

Memory stays bounded: an input image is held only until a pose at or after its stamp comes
(poses come in stamp order, at most the pose window and its look-ahead later), then it is
drawn into the video and let go; the log times of the last :data:`RECENT_POSES` posed frames
are kept for the actions, which name a posed frame (or one about to be) as their newest.
"""

import threading
from collections import OrderedDict, deque
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from rclpy.serialization import deserialize_message

from htt_ros.bags.annotated_video import AnnotatedVideo
from htt_ros.bags.bag_io import MESSAGE_TYPES, stamp_ns
from htt_ros.bags.output_bag import OutputBag
from htt_ros.bags.predictions_file import FILE_NAME, PredictionsFile
from htt_ros.model_card import ModelCard
from htt_ros.msg import Action, HandPoses
from htt_ros.ros.annotate import annotate
from htt_ros.ros.image_conversion import compressed_msg_to_rgb, image_msg_to_rgb
from htt_ros.ros.message_results import action_result, pose_result
from htt_ros.streaming.results import ActionResult, PoseResult

IMAGE_TYPES = ("sensor_msgs/msg/Image", "sensor_msgs/msg/CompressedImage")
RECENT_POSES = 256  # posed frames whose log time an action may still ask for


@dataclass
class _Frame:
    log_ns: int
    msg: object | None  # the deserialized image, kept only when something draws on it


def _rgb(msg: object) -> np.ndarray:
    return image_msg_to_rgb(msg) if hasattr(msg, "encoding") else compressed_msg_to_rgb(msg)


class ReplayOutputs:
    """Fans a replay's stream out to the outputs asked for; thread-safe (live replay calls
    :meth:`input_message` from the player and the outputs from subscriptions)."""

    def __init__(
        self,
        report: Path,
        card: ModelCard,
        model_name: str,
        out_bag: Path | None = None,
        copy_input: bool = True,
        annotated: bool = False,
        video: Path | None = None,
    ) -> None:
        self.card = card
        self.predictions = PredictionsFile(report / FILE_NAME)
        self.bag = (
            None
            if out_bag is None
            else OutputBag(out_bag, card, model_name, copy_input, annotated)
        )
        self.video = None if video is None else AnnotatedVideo(video)
        self._keep_images = annotated or video is not None
        self._waiting: OrderedDict[int, _Frame] = OrderedDict()  # images without a pose yet
        self._posed: deque[tuple[int, int]] = deque(maxlen=RECENT_POSES)  # (stamp, log time)
        self._last_log_ns = 0
        self._pose: PoseResult | None = None  # the newest pose, drawn on the frames after it
        self._action: ActionResult | None = None
        self._lock = threading.Lock()

    def input_message(self, topic: str, msgtype: str, log_ns: int, cdr: bytes) -> None:
        with self._lock:
            self._last_log_ns = log_ns
            if self.bag is not None:
                self.bag.input_message(topic, msgtype, log_ns, cdr)
            if msgtype in IMAGE_TYPES:
                msg = deserialize_message(cdr, MESSAGE_TYPES[msgtype])
                kept = msg if self._keep_images else None
                self._waiting[stamp_ns(msg)] = _Frame(log_ns, kept)

    def hands(self, msg: HandPoses) -> None:
        with self._lock:
            self.predictions.hands(msg)
            pose = pose_result(msg)
            stamp = pose.frame.stamp_ns
            frame = self._waiting.get(stamp)
            log_ns = self._log_ns(stamp)
            self._posed.append((stamp, log_ns))
            rgb = None if frame is None or frame.msg is None else _rgb(frame.msg)
            if self.bag is not None:
                self.bag.hands(msg, pose, self._action, log_ns, rgb)
            # Poses come in input order: the frames before this one get the previous pose.
            while self._waiting and (frame is not None or next(iter(self._waiting)) < stamp):
                earlier, waiting = self._waiting.popitem(last=False)
                if earlier == stamp:
                    break
                self._draw(earlier, waiting, None)
            self._pose = pose
            if frame is not None:
                self._draw(stamp, frame, rgb)

    def action(self, msg: Action) -> None:
        with self._lock:
            self.predictions.action(msg)
            self._action = action_result(msg, len(self.card.labels.actions))
            if self.bag is not None:
                self.bag.action(msg, self._log_ns(self._action.newest.stamp_ns))

    def _log_ns(self, stamp: int) -> int:
        """The log time of the input image stamped ``stamp``: a posed frame, or one whose pose
        is still to come (an action may come before the poses of the same step); else the
        newest input's."""
        waiting = self._waiting.get(stamp)
        if waiting is not None:
            return waiting.log_ns
        posed = (log for known, log in reversed(self._posed) if known == stamp)
        return next(posed, self._last_log_ns)

    def close(self) -> None:
        """Draws the frames after the last pose and closes every file."""
        with self._lock:
            while self._waiting:
                self._draw(*self._waiting.popitem(last=False), None)
            self.predictions.close()
            if self.bag is not None:
                self.bag.close()
            if self.video is not None:
                self.video.close()

    def _draw(self, stamp: int, frame: _Frame, rgb: np.ndarray | None) -> None:
        """Frame ``stamp`` into the video with the newest pose at or before it."""
        if self.video is None:
            return
        if rgb is None:
            rgb = _rgb(frame.msg)
        if self._pose is not None:
            rgb = annotate(rgb, self._pose, self.card, self._action)
        self.video.add(rgb, stamp)
