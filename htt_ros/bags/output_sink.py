"""What a replay hands its outputs to: ``htt-replay``'s offline and live runs call the same
sink, so predictions.jsonl, the output bag and the annotated video come from one place."""

from typing import Protocol

from htt_ros.msg import Action, HandPoses


class OutputSink(Protocol):
    """Receives a replay's input camera messages and the model's outputs, in stream order."""

    def input_message(self, topic: str, msgtype: str, log_ns: int, cdr: bytes) -> None:
        """One camera message of the input (image or camera_info), serialized, in log order."""

    def hands(self, msg: HandPoses) -> None:
        """One frame's poses, built by :mod:`htt_ros.ros.message_builders` (stamp = input's)."""

    def action(self, msg: Action) -> None:
        """One action estimate, built by :mod:`htt_ros.ros.message_builders`."""
