"""The streaming HTT pipeline: one camera frame at a time in, poses and actions out.

Each selected frame goes through the ResNet once: ``pose_step`` returns its feature and the
pipeline caches it for the next t-1 windows. Two ways to run block P:

- ``segment`` reproduces the paper: P over aligned t-frame segments (counted from the last
  reset); the t poses of a segment come out together when its last frame arrives.
- ``sliding`` gives every frame its pose: P over the last t frames, the pose read ``lag`` frames
  before the newest (0 = lowest latency; more look-ahead is closer to the paper's context).

Block A runs every ``action_stride`` tokens over the last T, and the action probabilities are
averaged over the last ``action_smoothing`` runs, as the paper sums them over a video's clips.
By default A runs inline and its result comes out of the same ``push`` (deterministic, as offline
replay needs). Given ``submit_action``, the pipeline instead hands it each due A run as a
zero-argument function returning the ActionResult, to be called on another thread (the node's),
so that no pose waits for A; the tokens are copied when it is handed over.
At the end of a stream (:meth:`flush`, also at a reset) A runs once more on the tokens that no
run has classified yet. Partial windows follow the authors' padding: real frames first, masked
padding after them; P never sees a fully masked window. In sliding mode that holds for the
first t-1 frames after a reset too: the newest frame sits last among the real frames, not at
position t-1 (the layout the network trained on; ``pose_step`` puts the new frame's feature at
the last valid position).

:attr:`StreamingPipeline.stage_s` adds up the seconds spent in each of :data:`STAGES`
(``htt-bench`` reports them per frame).
"""

import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial

import numpy as np

from htt_ros.engines.base import GraphRunner
from htt_ros.geometry import decode_25d
from htt_ros.graph_io import (
    ACTION_INPUTS,
    ACTION_OUTPUTS,
    POSE_STEP_INPUTS,
    POSE_STEP_OUTPUTS,
    pose_step_feeds,
)
from htt_ros.metrics import softmax
from htt_ros.model_card import ModelCard
from htt_ros.streaming.frame_selection import CameraState, FrameSelector, ResetDetector
from htt_ros.streaming.preprocess import FITS, fit_view, to_network_input
from htt_ros.streaming.results import ActionResult, FrameRef, PoseResult, StepOutput

MODES = ("sliding", "segment")
STAGES = ("resize", "pose_step", "action", "decoding")  # timed in StreamingPipeline.stage_s
ActionRun = Callable[[], ActionResult]  # a due run of A, handed to ``submit_action``


@dataclass(frozen=True)
class StreamingConfig:
    """How the pipeline runs; see the module docstring. ``rate_hz`` None = the model's rate;
    ``fit`` how a frame of another aspect ratio meets the network (:mod:`.preprocess`)."""

    mode: str = "sliding"
    lag: int = 0
    action_stride: int = 8
    action_smoothing: int = 4
    rate_hz: float | None = None
    max_gap_s: float = 0.5
    fit: str = "crop"


@dataclass(eq=False)  # frames compare by identity: two frames may share a stamp
class _Frame:
    ref: FrameRef
    image: np.ndarray  # (1, H, W, 3) uint8 network input
    feature: np.ndarray  # (F,) ResNet feature


@dataclass
class _Window:
    """Outputs of one P run over real ``frames`` at positions 0..len-1, padding after them."""

    frames: list[_Frame]
    pose_raw: np.ndarray  # (t, J, 3)
    object_logits: np.ndarray  # (t, O)
    tokens: np.ndarray  # (t, D)


def _width(runner: GraphRunner, name: str) -> int:
    """The last dimension of input ``name`` of ``runner`` (as model.json records it)."""
    return next(spec.shape[-1] for spec in runner.inputs if spec.name == name)


class StreamingPipeline:
    """Feed with :meth:`push`; call :meth:`flush` at the end of a stream for the pending poses."""

    def __init__(
        self,
        card: ModelCard,
        pose_step: GraphRunner,
        action: GraphRunner,
        config: StreamingConfig | None = None,
        submit_action: Callable[[ActionRun], None] | None = None,
    ) -> None:
        self.card, self.pose_step, self.action = card, pose_step, action
        self.submit_action = submit_action
        self.config = config = config or StreamingConfig()
        self.t, self.clip = card.window, card.clip_length
        if config.mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, got {config.mode!r}")
        if not 0 <= config.lag < self.t:
            raise ValueError(
                f"lag must be in [0, {self.t - 1}] (pose window {self.t}), got {config.lag}"
            )
        if config.fit not in FITS:
            raise ValueError(f"fit must be one of {', '.join(FITS)}, got {config.fit!r}")
        if config.action_stride < 1 or config.action_smoothing < 1:
            raise ValueError("action_stride and action_smoothing must be >= 1")
        self.size = (card.input_width, card.input_height)
        self._feature_width = _width(pose_step, POSE_STEP_INPUTS[1])  # F, the ResNet's 512
        self._token_width = _width(action, ACTION_INPUTS[0])  # D, the transformer's 512
        self.frame = card.decoding.frame
        rate = card.frame_rate_hz if config.rate_hz is None else config.rate_hz
        self._selector = FrameSelector(rate)
        self._resets = ResetDetector(config.max_gap_s)
        self._frames: deque[_Frame] = deque(maxlen=self.t)  # sliding: last t; segment: current
        self._pending: deque[_Frame] = deque()  # sliding: frames still waiting for look-ahead
        self._last_window: _Window | None = None
        self._tokens: deque[tuple[FrameRef, np.ndarray]] = deque(maxlen=self.clip)
        self._tokens_since_action = 0
        self._recent_probs: deque[np.ndarray] = deque(maxlen=config.action_smoothing)
        self._intrinsics = np.eye(3)  # intrinsics in the decoding frame, current history
        self._view = fit_view(self.frame, self.frame)  # the image's view, current history
        self.frames_pushed = self.frames_processed = self.resets = 0
        self.stage_s = dict.fromkeys(STAGES, 0.0)

    @contextmanager
    def _timed(self, stage: str) -> Iterator[None]:
        start = time.perf_counter()
        yield
        self.stage_s[stage] += time.perf_counter() - start

    def push(
        self, rgb: np.ndarray, stamp_ns: int, intrinsics: np.ndarray, tag: object = None
    ) -> StepOutput:
        """Offer one RGB frame ``(H, W, 3)`` uint8 with its stamp and ``(3, 3)`` intrinsics."""
        self.frames_pushed += 1
        out = StepOutput()
        height, width = rgb.shape[:2]
        reason = self._resets.check(stamp_ns, CameraState(width, height, np.asarray(intrinsics)))
        if reason is not None:
            if reason != "first frame":
                self._merge(out, self.flush())
                self.resets += 1
            self._clear()
            out.reset_reason = reason
        if not self._selector.take(stamp_ns):
            return out
        out.selected = True
        self.frames_processed += 1
        with self._timed("resize"):
            image, self._view = to_network_input(
                rgb, self.size, self.frame, self.config.fit, self.card.shrink
            )
        self._intrinsics = self._view.intrinsics(intrinsics)
        frame = _Frame(FrameRef(stamp_ns, tag), image, np.zeros(0, np.float32))
        if self.config.mode == "segment":
            self._push_segment(frame, out)
        else:
            self._push_sliding(frame, out)
        return out

    def flush(self) -> StepOutput:
        """Emit what is still pending: a partial segment or the frames awaiting look-ahead, then
        the action of the tokens no A run has seen yet."""
        out = StepOutput()
        if self.config.mode == "segment" and self._frames:
            self._emit_window(self._last_window, out)
            self._frames.clear()
        elif self._pending and self._last_window is not None:
            window = self._last_window
            for frame in self._pending:
                p = window.frames.index(frame)
                self._emit_pose(window, p, len(window.frames) - 1 - p, out)
            self._pending.clear()
        if self._tokens_since_action:
            self._due_action(out)
        return out

    # -- P ---------------------------------------------------------------------------------

    def _run_window(self, earlier: list[_Frame], frame: _Frame) -> _Window:
        """P over the window of ``earlier`` (0 to t-1 frames, features cached) and the new
        ``frame``, real frames first and masked padding after them (the authors' layout):
        ``frame``'s image goes through the ResNet, and its feature is cached."""
        features = [f.feature for f in earlier]
        feeds = pose_step_feeds(frame.image, features, self.t, self._feature_width)
        with self._timed("pose_step"):
            outputs = self.pose_step.run(feeds)
        feature, *heads = (outputs[name] for name in POSE_STEP_OUTPUTS)
        frame.feature = feature[0]
        return _Window([*earlier, frame], *heads)

    # -- segment mode ----------------------------------------------------------------------

    def _push_segment(self, frame: _Frame, out: StepOutput) -> None:
        """P over the segment so far (kept for a flush of a partial one); a complete segment
        comes out whole."""
        self._last_window = self._run_window(list(self._frames), frame)
        self._frames.append(frame)
        if len(self._frames) == self.t:
            self._emit_window(self._last_window, out)
            self._frames.clear()

    def _emit_window(self, window: _Window, out: StepOutput) -> None:
        for p in range(len(window.frames)):
            self._emit_pose(window, p, 0, out)

    # -- sliding mode ----------------------------------------------------------------------

    def _push_sliding(self, frame: _Frame, out: StepOutput) -> None:
        window = self._run_window(list(self._frames)[-(self.t - 1) :], frame)
        self._frames.append(frame)
        self._last_window = window
        self._pending.append(frame)
        if len(self._pending) > self.config.lag:
            target = self._pending.popleft()
            self._emit_pose(window, window.frames.index(target), self.config.lag, out)

    # -- outputs ---------------------------------------------------------------------------

    def _emit_pose(self, window: _Window, p: int, lag: int, out: StepOutput) -> None:
        with self._timed("decoding"):
            joints2d, _, joints3d = decode_25d(window.pose_raw[p], self._intrinsics, self.frame)
            joints2d = self._view.to_image(joints2d).astype(np.float32)
            object_probs = softmax(window.object_logits[p])
        valid_frames = len(window.frames)
        out.poses.append(
            PoseResult(
                frame=window.frames[p].ref,
                joints2d=joints2d,
                joints3d=joints3d.astype(np.float32),
                object_probs=object_probs,
                complete_window=valid_frames == self.t,
                window_frames=valid_frames,
                lag_frames=lag,
            )
        )
        self._tokens.append((window.frames[p].ref, window.tokens[p]))
        self._tokens_since_action += 1
        if self._tokens_since_action >= self.config.action_stride:
            self._due_action(out)

    def _due_action(self, out: StepOutput) -> None:
        """Run A now into ``out``, or hand the run to ``submit_action``."""
        if self.submit_action is None:
            out.actions.append(self._action_run()())
        else:
            self.submit_action(self._action_run())

    def _action_run(self) -> ActionRun:
        """A over the current last T tokens, as a function to call now or on another thread:
        it reads copies of the tokens and this history's smoothing deque only."""
        self._tokens_since_action = 0
        n = len(self._tokens)
        tokens = np.zeros((self.clip, self._token_width), np.float32)
        tokens[:n] = np.stack([token for _, token in self._tokens])
        valid = np.arange(self.clip) < n
        newest, first = self._tokens[-1][0], self._tokens[0][0]
        return partial(self._run_a, tokens, valid, newest, first, n, self._recent_probs)

    def _run_a(
        self,
        tokens: np.ndarray,
        valid: np.ndarray,
        newest: FrameRef,
        first: FrameRef,
        n: int,
        recent: deque[np.ndarray],
    ) -> ActionResult:
        with self._timed("action"):
            outputs = self.action.run(dict(zip(ACTION_INPUTS, (tokens, valid), strict=True)))
        probs = softmax(outputs[ACTION_OUTPUTS[0]])
        recent.append(probs)
        return ActionResult(newest, first, n, probs, np.mean(recent, axis=0))

    def _clear(self) -> None:
        self._frames.clear()
        self._pending.clear()
        self._last_window = None
        self._tokens.clear()
        self._tokens_since_action = 0
        # A new deque, not cleared: a run handed to another thread keeps the old history's.
        self._recent_probs = deque(maxlen=self.config.action_smoothing)
        self._selector.reset()

    @staticmethod
    def _merge(out: StepOutput, other: StepOutput) -> None:
        out.poses.extend(other.poses)
        out.actions.extend(other.actions)
