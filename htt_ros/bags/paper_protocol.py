"""``htt-replay --protocol paper``: the authors' test-time computation, run on a bag.

HTT's published numbers (Wen et al., CVPR 2023, sec. 4; the authors' eval.py in fylwen/HTT)
come from an offline protocol that needs every window's future, so no robot can run it:

- each ground-truth sequence (FPHA video, H2O action segment) is split into ``spacing``
  sub-streams by frame parity (spacing = camera rate / model rate: the even and the odd frames
  of a 30 Hz bag for a 15 Hz model);
- each sub-stream into consecutive clips of T frames; the last clip is padded by repeating its
  last real frame, masked (the data readers' :func:`training.clips.clip_frames` rule);
- P runs over the aligned t-frame windows of a clip (a partial window: real frames first,
  padding after, masked), A once per clip on its tokens, padding masked;
- every real frame gets exactly one pose, and the sequence's action is the argmax of its summed
  clip probabilities.

The model folder's own graphs compute it (any backend), on the frames as the pipeline resizes
them, so with the torch backend it equals ``python -m training.evaluate`` on the data set
folder the bag was made from.
"""

import time
from dataclasses import dataclass

import numpy as np

from htt_ros.bags.bag_io import BagError
from htt_ros.bags.bag_io import stamp_ns as header_ns
from htt_ros.bags.evaluation import GroundTruth, PosePrediction, ReplayRun
from htt_ros.bags.recording import Recording
from htt_ros.engines.loader import LoadedModel
from htt_ros.geometry import decode_25d
from htt_ros.graph_io import pose_step_feeds
from htt_ros.metrics import softmax
from htt_ros.ros.image_conversion import compressed_msg_to_rgb, image_msg_to_rgb
from htt_ros.streaming.preprocess import View, to_network_input

FEATURE_SIZE = 512


@dataclass(eq=False)
class _Frame:
    stamp_ns: int
    image: np.ndarray  # (1, H, W, 3) uint8 network input
    intrinsics: np.ndarray  # (3, 3) in the decoding frame
    view: View  # the image's view: 2D joints back to its pixels
    feature: np.ndarray | None = None


def clip_spacing(stamps: list[int], frame_rate_hz: float) -> int:
    """Frames of the camera per model frame: the camera rate (median stamp step) over the
    model's rate, at least 1."""
    steps = np.diff(np.sort(stamps))
    steps = steps[steps > 0]
    if not len(steps) or frame_rate_hz <= 0:
        return 1
    return max(1, round(1e9 / float(np.median(steps)) / frame_rate_hz))


class PaperProtocol:
    """Scores clips the authors' way with a loaded model; :meth:`sequence` per sequence."""

    def __init__(self, model: LoadedModel, run: ReplayRun) -> None:
        self.model, self.run = model, run
        card = model.card
        self.t, self.clip = card.window, card.clip_length
        self.size = (card.input_width, card.input_height)
        self.decoding_frame = card.decoding.frame

    def frame(self, rgb: np.ndarray, stamp: int, intrinsics: np.ndarray) -> _Frame:
        image, view = to_network_input(
            rgb, self.size, self.decoding_frame, shrink=self.model.card.shrink
        )
        return _Frame(stamp, image, view.intrinsics(intrinsics), view)

    def sequence(self, frames: list[_Frame], spacing: int) -> None:
        """Both (all ``spacing``) parities of one sequence, clip by clip, into the run."""
        for parity in range(spacing):
            stream = frames[parity::spacing]
            for start in range(0, len(stream), self.clip):
                self._clip(stream[start : start + self.clip])

    def _pose_step(self, image: np.ndarray, prev: list[np.ndarray]) -> dict[str, np.ndarray]:
        """pose_step on the window of the ``prev`` features and ``image``, padded after them."""
        return self.model.pose_step.run(pose_step_feeds(image, prev, self.t, FEATURE_SIZE))

    def _feature(self, frame: _Frame) -> np.ndarray:
        if frame.feature is None:
            frame.feature = self._pose_step(frame.image, [])["feature"][0]
        return frame.feature

    def _clip(self, frames: list[_Frame]) -> None:
        """P over the clip's aligned windows, A over its tokens: poses and one score vector."""
        t = self.t
        tokens = np.zeros((self.clip, FEATURE_SIZE), np.float32)
        for w in range(0, len(frames), t):
            window = frames[w : w + t]
            k = len(window)
            prev = [self._feature(f) for f in window[:-1]]  # the last frame's comes with P
            out = self._pose_step(window[-1].image, prev)
            for p, frame in enumerate(window):
                joints2d, _, joints3d = decode_25d(
                    out["pose_raw"][p], frame.intrinsics, self.decoding_frame
                )
                prediction = PosePrediction(
                    joints3d.astype(np.float32),
                    frame.view.to_image(joints2d).astype(np.float32),
                    int(out["object_logits"][p].argmax()),
                )
                self.run.add_pose(frame.stamp_ns, prediction)
            tokens[w : w + k] = out["tokens"][:k]
        valid = np.arange(self.clip) < len(frames)
        logits = self.model.action.run({"tokens": tokens, "valid": valid})["action_logits"]
        self.run.action_scores.append((frames[-1].stamp_ns, softmax(logits)))


def run_paper(model: LoadedModel, recording: Recording, truth: GroundTruth) -> ReplayRun:
    """The paper's protocol over every ground-truth sequence of ``recording``."""
    run = ReplayRun("paper")
    protocol = PaperProtocol(model, run)
    sequences = sorted(truth.sequences)
    spacing = clip_spacing(list(truth.joints3d), model.card.frame_rate_hz)
    current: list[_Frame] = []
    index, intrinsics = 0, None
    start = time.perf_counter()
    info_topic = recording.camera_info_topic
    for topic, _, _, cdr in recording.messages():
        msg = recording.deserialize(topic, cdr)
        if topic == info_topic:
            intrinsics = np.array(msg.k, dtype=float).reshape(3, 3)
            continue
        if intrinsics is None:
            raise BagError(f"{recording.path}: an image comes before any {info_topic} message")
        run.frames_sent += 1
        stamp = header_ns(msg)
        while index < len(sequences) and stamp > sequences[index][1]:
            protocol.sequence(current, spacing)
            current, index = [], index + 1
        if index < len(sequences) and stamp >= sequences[index][0]:
            rgb = compressed_msg_to_rgb(msg) if recording.compressed else image_msg_to_rgb(msg)
            current.append(protocol.frame(rgb, stamp, intrinsics))
    if current:
        protocol.sequence(current, spacing)
    run.wall_s = time.perf_counter() - start
    run.details |= {"spacing": spacing, "clips": len(run.action_scores)}
    return run
