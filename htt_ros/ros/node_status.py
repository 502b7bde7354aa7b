"""Counters of what the node did, and the /diagnostics status made from them."""

import time
from collections import deque
from dataclasses import dataclass, field

from diagnostic_msgs.msg import DiagnosticStatus, KeyValue


@dataclass
class NodeStatus:
    """Counters updated by the callbacks and the inference thread; read once per period."""

    name: str
    backend: str
    model: str
    model_error: str | None = None
    camera_problem: str | None = None
    frames_received: int = 0
    bad_frames: int = 0
    errors: int = 0
    poses_published: int = 0
    actions_published: int = 0
    resets: int = 0
    last_reset: str = ""
    latencies_ms: deque = field(default_factory=lambda: deque(maxlen=100))
    _last: tuple[float, int, int] = (0.0, 0, 0)

    def report(self, dropped: int, processed: int) -> DiagnosticStatus:
        """One status: ERROR without a model, WARN without input or camera_info, else OK."""
        now = time.monotonic()
        then, received_then, poses_then = self._last
        elapsed = max(now - then, 1e-9) if then else 0.0
        self._last = (now, self.frames_received, self.poses_published)
        input_hz = (self.frames_received - received_then) / elapsed if elapsed else 0.0
        output_hz = (self.poses_published - poses_then) / elapsed if elapsed else 0.0
        latencies = sorted(self.latencies_ms)
        status = DiagnosticStatus(name=f"{self.name}: htt", hardware_id=self.name)
        if self.model_error:
            status.level, status.message = DiagnosticStatus.ERROR, self.model_error
        elif input_hz == 0.0:
            status.level, status.message = DiagnosticStatus.WARN, "no images received"
        elif self.camera_problem:
            status.level, status.message = DiagnosticStatus.WARN, self.camera_problem
        else:
            status.level, status.message = DiagnosticStatus.OK, "running"
        values = {
            "backend": self.backend,
            "model": self.model,
            "input_rate_hz": f"{input_hz:.2f}",
            "output_rate_hz": f"{output_hz:.2f}",
            "frames_received": self.frames_received,
            "frames_processed": processed,
            "frames_dropped_busy": dropped,
            "bad_frames": self.bad_frames,
            "errors": self.errors,
            "poses_published": self.poses_published,
            "actions_published": self.actions_published,
            "resets": self.resets,
            "last_reset": self.last_reset,
            "latency_ms_median": f"{latencies[len(latencies) // 2]:.1f}" if latencies else "",
            "latency_ms_max": f"{latencies[-1]:.1f}" if latencies else "",
        }
        status.values = [KeyValue(key=k, value=str(v)) for k, v in values.items()]
        return status
