"""The node benchmark (``htt-bench MODEL --node``), in the manner of ros2_benchmark.

Three processes talk over DDS as on a robot: a camera at a fixed rate (fixed_rate_camera), the
real ``htt_node`` and a consumer (this process) that records every pose it receives. What is
measured, over the run after a warm-up:

- latency: the consumer's receive time minus the pose's header stamp, which is the image's stamp
  set by the camera when it published it (one machine, one clock): image transport, the node's
  queueing, conversion, inference, publishing and the pose's transport.
- frames the model should take: the camera's sent stamps run through the node's own frame
  selector at the node's model rate, i.e. what the node processes when it drops nothing
  (15 Hz: every second frame of a 30 Hz camera). ``drop_fraction`` = 1 - processed / expected,
  where processed = the frames whose pose reached the consumer. They are counted, not matched
  stamp by stamp: after a dropped frame the node's selector takes the next one instead.
- the node process's CPU use (user + system, percent of one core) and resident memory (VmRSS)
  sampled every SAMPLE_S; growth = the mean of the last 5 samples less that of the first 5,
  counted once the node's histories are full (T frames of A at the model rate, or at the
  processed rate if lower, after the warm-up: until then they grow by design).
- ``cpu_ms_per_processed_frame``: the node's CPU time over the run per pose it delivered (all
  its work included: frames it receives but does not take, transport, A).
- peak throughput (``--peak``): the node set to take every frame (``model_rate_hz`` = the camera
  rate), camera rates stepped up; ``peak_input_hz`` is the highest with a drop fraction under
  PEAK_DROP_LIMIT. It measures what the node can process, not what the model needs.
"""

import os
import platform
import re
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import rclpy
from diagnostic_msgs.msg import DiagnosticArray
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.parameter_client import AsyncParameterClient

from htt_ros.benchmarks import process_usage
from htt_ros.benchmarks.process_usage import Usage
from htt_ros.errors import UserError
from htt_ros.model_card import ModelCard
from htt_ros.msg import HandPoses
from htt_ros.streaming.frame_selection import NS_PER_S, FrameSelector
from htt_ros.subprocesses import interrupt

NAMESPACE = "/htt_bench"
SAMPLE_S = 0.5
ACTIVE_TIMEOUT_S = 300.0  # the node loads its model before it is active
DRAIN_S = 1.0  # after the camera stops: this long without a new pose ends a run
PEAK_RATES_HZ = (10.0, 12.5, 15.0, 20.0, 25.0, 30.0, 40.0, 50.0, 60.0, 80.0, 100.0, 120.0)
PEAK_DROP_LIMIT = 0.05
PERCENTILES = (50, 90, 99)


@dataclass
class Settings:
    model: Path
    rate_hz: float
    duration_s: float
    warmup_s: float
    camera_size: tuple[int, int]
    camera_qos: str = "sensor_data"  # or reliable: then the node subscribes reliable too
    node_params: list[str] = field(default_factory=list)
    peak_rates_hz: list[float] | None = None  # None: no peak search
    peak_duration_s: float = 10.0


@dataclass
class Series:
    """What the plot shows: the main run's latencies (ms) and node usage, the peak steps."""

    latencies_ms: np.ndarray
    usage: list[Usage]
    peak_steps: list[dict]


class Consumer(Node):
    """Records the receive time of every pose and the node's latest diagnostics."""

    def __init__(self) -> None:
        super().__init__("htt_bench_consumer", namespace=NAMESPACE)
        self._lock = threading.Lock()
        self._received: dict[int, int] = {}  # pose stamp -> receive time, ns
        self.status: dict[str, str] = {}
        self.statuses = 0
        self.hands_sub = self.create_subscription(HandPoses, "hands", self.on_hands, 100)
        self.create_subscription(DiagnosticArray, "/diagnostics", self.on_status, 10)
        self.parameters = AsyncParameterClient(self, f"{NAMESPACE}/htt_node")

    def on_hands(self, msg: HandPoses) -> None:
        now = time.time_ns()
        stamp = msg.header.stamp.sec * NS_PER_S + msg.header.stamp.nanosec
        with self._lock:
            self._received[stamp] = now

    def on_status(self, msg: DiagnosticArray) -> None:
        for status in msg.status:
            if status.name.startswith(f"{NAMESPACE}/htt_node"):
                values = {kv.key: kv.value for kv in status.values}
                self.status = values | {"message": status.message}
                self.statuses += 1

    def take_received(self) -> dict[int, int]:
        with self._lock:
            received, self._received = self._received, {}
        return received

    def last_receipt_ns(self) -> int:
        with self._lock:
            return max(self._received.values(), default=0)


def percentiles(values: np.ndarray) -> dict | None:
    if not len(values):
        return None
    named = {f"p{p}": float(np.percentile(values, p)) for p in PERCENTILES}
    return named | {"max": float(values.max()), "mean": float(values.mean())}


def frame_stats(
    sent: np.ndarray, received: dict[int, int], model_rate_hz: float, warmup_s: float
) -> tuple[dict, np.ndarray]:
    """Latency, processed rate and drop fraction of one run (definitions: module docstring),
    and the latencies in milliseconds."""
    selector = FrameSelector(model_rate_hz)
    start = int(sent[0]) + round(warmup_s * NS_PER_S)
    expected = sum(1 for s in sent.tolist() if selector.take(s) and s >= start)
    sent_set = set(sent.tolist())
    got = [(s, r) for s, r in received.items() if s in sent_set and s >= start]
    latency_ms = np.array([(r - s) / 1e6 for s, r in got])
    period_s = (sent[-1] - sent[0]) / NS_PER_S / max(1, len(sent) - 1)
    window_s = (int(sent[-1]) - start) / NS_PER_S + period_s
    return {
        "frames": {"sent": len(sent), "expected": expected, "processed": len(got)},
        "processed_hz": len(got) / window_s if window_s > 0 else None,
        "drop_fraction": max(0.0, 1 - len(got) / expected) if expected else None,
        "latency_ms": percentiles(latency_ms),
    }, latency_ms


class NodeBenchmark:
    """Starts the node, runs the camera at the given rates, and measures each run."""

    def __init__(self, settings: Settings, workdir: Path) -> None:
        self.settings, self.workdir = settings, workdir
        self.card = ModelCard.load(settings.model)  # a wrong folder is refused here
        self.node_log = workdir / "htt_node.log"
        self.node: subprocess.Popen | None = None
        self.consumer: Consumer | None = None

    def start_node(self) -> None:
        args = ["-r", f"__ns:={NAMESPACE}", "-p", f"model:={self.settings.model}"]
        args += ["-p", "diagnostics_period_s:=0.5"]
        if self.settings.camera_qos == "reliable":
            args += ["-p", "image_qos:=reliable"]  # a later --node-param may override it
        for param in self.settings.node_params:
            args += ["-p", param]
        with self.node_log.open("w") as log:
            self.node = subprocess.Popen(
                [sys.executable, "-m", "htt_ros.ros.htt_node", "--ros-args", *args],
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def wait_active(self) -> None:
        deadline = time.monotonic() + ACTIVE_TIMEOUT_S
        while not (
            self.consumer.status.get("state") == "active"
            and self.consumer.hands_sub.get_publisher_count() > 0
        ):
            if self.node.poll() is not None:
                raise UserError(f"htt_node exited at start: {self.log_tail()}")
            if "cannot" in self.consumer.status.get("message", ""):
                raise UserError(f"htt_node: {self.consumer.status['message']}")
            if time.monotonic() > deadline:
                raise UserError(f"htt_node did not become active: {self.log_tail()}")
            time.sleep(0.1)

    def log_tail(self) -> str:
        lines = self.node_log.read_text(errors="replace").strip().splitlines()
        return " | ".join(lines[-3:]) or "no output"

    def loaded_as(self) -> dict:
        """Backend and precision, from the node's load line."""
        found = re.search(r"joints\) on (\S+) (\S+?),? ", self.node_log.read_text())
        return {"backend": found[1], "precision": found[2]} if found else {}

    def set_model_rate(self, rate_hz: float) -> None:
        future = self.consumer.parameters.set_parameters(
            [Parameter("model_rate_hz", value=rate_hz)]
        )
        deadline = time.monotonic() + 30
        while not future.done():
            if time.monotonic() > deadline:
                raise UserError("htt_node did not answer set_parameters within 30 s")
            time.sleep(0.05)
        result = future.result().results[0]
        if not result.successful:
            raise UserError(f"htt_node refused model_rate_hz {rate_hz}: {result.reason}")

    def counters(self) -> dict[str, int]:
        keys = ("frames_received", "frames_dropped_busy", "frames_processed")
        return {key: int(self.consumer.status.get(key, 0)) for key in keys}

    def fresh_status(self) -> None:
        """Wait for two diagnostics reports after now (the last counters are then in them)."""
        seen, deadline = self.consumer.statuses, time.monotonic() + 10
        while self.consumer.statuses < seen + 2 and time.monotonic() < deadline:
            time.sleep(0.05)

    def run_camera(self, rate_hz: float, seconds: float, model_rate_hz: float, warmup_s: float):
        """One run: the camera at ``rate_hz`` for ``seconds``; returns its measurements (node
        usage included), the latencies (ms) and the node's usage samples of the measured
        window."""
        stamps = self.workdir / f"stamps_{rate_hz:g}.npy"
        camera_log = self.workdir / "camera.log"
        self.fresh_status()
        before = self.counters()
        self.consumer.take_received()
        width, height = self.settings.camera_size
        layout = "fpha" if self.card.num_joints == 21 else "h2o"
        with camera_log.open("w") as log:
            camera = subprocess.Popen(
                [
                    *(sys.executable, "-m", "htt_ros.benchmarks.fixed_rate_camera"),
                    *(f"{rate_hz}", f"{seconds}", str(stamps)),
                    *("--size", f"{width}", f"{height}", "--layout", layout),
                    *("--qos", self.settings.camera_qos),
                    *("--ros-args", "-r", f"__ns:={NAMESPACE}"),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        samples: list[Usage] = []
        while camera.poll() is None:
            usage = process_usage.sample(self.node.pid)
            if usage is None or self.node.poll() is not None:
                interrupt(camera)
                raise UserError(f"htt_node died during the run: {self.log_tail()}")
            samples.append(usage)
            time.sleep(SAMPLE_S)
        if camera.returncode != 0:
            raise UserError(f"the benchmark camera failed: {camera_log.read_text().strip()}")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if time.time_ns() - self.consumer.last_receipt_ns() > DRAIN_S * NS_PER_S:
                break
            time.sleep(0.1)
        self.fresh_status()
        after = self.counters()
        sent = np.load(stamps)
        stats, latencies = frame_stats(
            sent, self.consumer.take_received(), model_rate_hz, warmup_s
        )
        stats["node_counters"] = {key: after[key] - before[key] for key in after}
        start_s = sent[0] / NS_PER_S + warmup_s
        window = [s for s in samples if start_s <= s.t <= sent[-1] / NS_PER_S]
        fill_hz = min(model_rate_hz, stats["processed_hz"] or model_rate_hz)  # a slow node: later
        histories_full_s = start_s + self.card.clip_length / fill_hz
        stats |= process_usage.summarize(window, memory_from=histories_full_s)
        cpu, rate = stats["cpu_percent"], stats["processed_hz"]
        stats["cpu_ms_per_processed_frame"] = 10 * cpu / rate if cpu and rate else None
        return stats, latencies, window

    def run(self) -> tuple[dict, Series]:
        s = self.settings
        model_rate = self.card.frame_rate_hz
        for param in s.node_params:
            name, _, value = param.partition(":=")
            if name == "model_rate_hz" and float(value) > 0:
                model_rate = float(value)
        load_before = os.getloadavg()
        self.start_node()
        try:
            with rclpy.init(args=["htt-bench"]):  # not sys.argv: NAME:=VALUE is a remap to rcl
                self.consumer = Consumer()
                executor = SingleThreadedExecutor()
                executor.add_node(self.consumer)
                spinner = threading.Thread(target=executor.spin, daemon=True)
                spinner.start()
                try:
                    self.wait_active()
                    stats, latencies, usage = self.run_camera(
                        s.rate_hz, s.duration_s, model_rate, s.warmup_s
                    )
                    peak = self.peak_search() if s.peak_rates_hz else None
                finally:
                    executor.shutdown()
                    spinner.join(5)
        finally:
            interrupt(self.node, timeout=30)
        result = {
            "camera": {"rate_hz": s.rate_hz, "size": list(s.camera_size), "qos": s.camera_qos},
            "duration_s": s.duration_s,
            "warmup_s": s.warmup_s,
            "model_rate_hz": model_rate,
            "node_parameters": s.node_params,
            **self.loaded_as(),
            **stats,
            "peak_input_hz": None if peak is None else peak["peak_input_hz"],
            "peak": peak or "not searched: pass --peak",
        }
        machine = {
            "cpus": os.cpu_count(),
            "processor": platform.processor() or platform.machine(),
            "load_average_1min": {"before": load_before[0], "after": os.getloadavg()[0]},
        }
        series = Series(latencies, usage, peak["steps"] if peak else [])
        return {"machine": machine, "node": result}, series

    def peak_search(self) -> dict:
        """Camera rates stepped up while the node takes every frame; stops at the first rate
        with PEAK_DROP_LIMIT or more dropped."""
        steps, best = [], None
        warmup = min(2.0, self.settings.peak_duration_s / 4)
        for rate in self.settings.peak_rates_hz:
            self.set_model_rate(rate)
            stats, _, _ = self.run_camera(rate, self.settings.peak_duration_s, rate, warmup)
            drop = stats["drop_fraction"]
            steps.append(
                {
                    "rate_hz": rate,
                    "drop_fraction": drop,
                    "processed_hz": stats["processed_hz"],
                    "latency_ms": stats["latency_ms"],
                    "cpu_percent": stats["cpu_percent"],
                }
            )
            print(f"  peak search: camera {rate:g} Hz, dropped {drop:.1%}", flush=True)
            if drop is None or drop >= PEAK_DROP_LIMIT:
                break
            best = rate
        return {"peak_input_hz": best, "drop_limit": PEAK_DROP_LIMIT, "steps": steps}


def run_node_benchmark(settings: Settings) -> tuple[dict, Series]:
    """The node benchmark's results, ``{"machine": ..., "node": ...}``, and its series."""
    os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
    with tempfile.TemporaryDirectory(prefix="htt_bench_node_") as tmp:
        return NodeBenchmark(settings, Path(tmp)).run()
