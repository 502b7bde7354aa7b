"""Counters of what the node did, and the /diagnostics status made from them.

Rates, the drop ratio and the pose ages are taken over a sliding window of the last reports
(about RATE_WINDOW_S), in the manner of diagnostic_updater's frequency status. Their thresholds
are checked only once the window is full and images were already arriving when it began, so
the first reports after activation (model warm-up, the first segment filling) are no false WARN.
"""

import time
from collections import deque
from dataclasses import dataclass, field

from diagnostic_msgs.msg import DiagnosticStatus, KeyValue

RATE_WINDOW_S = 4.0
STATE_MESSAGES = {
    "unconfigured": (DiagnosticStatus.WARN, "unconfigured: waiting for the configure transition"),
    "loading": (DiagnosticStatus.OK, "loading the model (configuring)"),
    "inactive": (DiagnosticStatus.OK, "inactive: model loaded, waiting for activate"),
}


@dataclass(frozen=True)
class Thresholds:
    """When the status turns WARN (the node's diagnostics_* parameters)."""

    max_drop_ratio: float
    max_stamp_age_ms: float
    rate_tolerance: float


@dataclass(frozen=True)
class _Snapshot:
    time: float
    received: int
    poses: int
    dropped: int


@dataclass
class NodeStatus:
    """Counters updated by the callbacks and the inference thread; read once per period."""

    name: str
    backend: str
    model: str
    state: str = "unconfigured"
    model_error: str | None = None
    camera_problem: str | None = None
    frames_received: int = 0
    bad_frames: int = 0
    errors: int = 0
    poses_published: int = 0
    actions_published: int = 0
    resets: int = 0
    last_reset: str = ""
    receipt_ms: deque = field(default_factory=lambda: deque(maxlen=100))
    stamp_age_ms: deque = field(default_factory=lambda: deque(maxlen=100))
    _window: deque = field(default_factory=deque)

    def record_latency(self, received: float, stamp_ns: int, now_ns: int) -> None:
        """A pose was published: ``received`` is the monotonic time its image arrived,
        ``stamp_ns`` the image's header stamp and ``now_ns`` the node clock now."""
        self.receipt_ms.append(1000 * (time.monotonic() - received))
        self.stamp_age_ms.append((now_ns - stamp_ns) / 1e6)

    def restart(self) -> None:
        """Forget the rate window and latencies (on activation: counters stay cumulative)."""
        self._window.clear()
        self.receipt_ms.clear()
        self.stamp_age_ms.clear()

    def report(
        self,
        dropped: int,
        processed: int,
        model_rate_hz: float,
        thresholds: Thresholds,
        now: float | None = None,
    ) -> DiagnosticStatus:
        """One status: ERROR without a model; the lifecycle state unless active; WARN without
        input or camera_info or past a threshold; else OK. ``now`` is monotonic seconds."""
        now = time.monotonic() if now is None else now
        current = _Snapshot(now, self.frames_received, self.poses_published, dropped)
        self._window.append(current)
        while len(self._window) > 2 and now - self._window[1].time >= RATE_WINDOW_S:
            self._window.popleft()
        first = self._window[0]
        span = now - first.time
        received = current.received - first.received
        input_hz = received / span if span > 0 else 0.0
        output_hz = (current.poses - first.poses) / span if span > 0 else 0.0
        drop_ratio = (current.dropped - first.dropped) / received if received else 0.0
        expected_hz = min(model_rate_hz, input_hz) if model_rate_hz > 0 else input_hz
        receipt, ages = sorted(self.receipt_ms), sorted(self.stamp_age_ms)
        age_median = ages[len(ages) // 2] if ages else None

        status = DiagnosticStatus(name=f"{self.name}: htt", hardware_id=self.name)
        warnings = []
        if span >= RATE_WINDOW_S and first.received > 0:
            if drop_ratio > thresholds.max_drop_ratio:
                warnings.append(
                    f"{drop_ratio:.0%} of frames dropped while inference was busy "
                    f"(threshold {thresholds.max_drop_ratio:.0%})"
                )
            if output_hz < expected_hz * (1 - thresholds.rate_tolerance):
                warnings.append(f"output {output_hz:.1f} Hz, expected {expected_hz:.1f} Hz")
            if age_median is not None and age_median > thresholds.max_stamp_age_ms:
                warnings.append(
                    f"poses are {age_median:.0f} ms older than their image stamps "
                    f"(threshold {thresholds.max_stamp_age_ms:.0f} ms)"
                )
        if self.model_error:
            status.level, status.message = DiagnosticStatus.ERROR, self.model_error
        elif self.state in STATE_MESSAGES:
            status.level, status.message = STATE_MESSAGES[self.state]
        elif (received if len(self._window) > 1 else self.frames_received) == 0:
            status.level, status.message = DiagnosticStatus.WARN, "no images received"
        elif self.camera_problem:
            status.level, status.message = DiagnosticStatus.WARN, self.camera_problem
        elif warnings:
            status.level, status.message = DiagnosticStatus.WARN, "; ".join(warnings)
        else:
            status.level, status.message = DiagnosticStatus.OK, "running"
        values = {
            "state": self.state,
            "backend": self.backend,
            "model": self.model,
            "input_rate_hz": f"{input_hz:.2f}",
            "output_rate_hz": f"{output_hz:.2f}",
            "expected_rate_hz": f"{expected_hz:.2f}",
            "frames_received": self.frames_received,
            "frames_processed": processed,
            "frames_dropped_busy": dropped,
            "drop_ratio": f"{drop_ratio:.3f}",
            "bad_frames": self.bad_frames,
            "errors": self.errors,
            "poses_published": self.poses_published,
            "actions_published": self.actions_published,
            "resets": self.resets,
            "last_reset": self.last_reset,
            "receipt_latency_ms_median": _median(receipt),
            "receipt_latency_ms_max": f"{receipt[-1]:.1f}" if receipt else "",
            "stamp_age_ms_median": _median(ages),
            "stamp_age_ms_max": f"{ages[-1]:.1f}" if ages else "",
        }
        status.values = [KeyValue(key=k, value=str(v)) for k, v in values.items()]
        return status


def _median(values: list[float]) -> str:
    return f"{values[len(values) // 2]:.1f}" if values else ""
