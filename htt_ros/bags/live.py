"""Live replay: the node in its own process, fed a recording at its recorded timing.

A player node publishes ``/clock`` (the node runs with ``use_sim_time``) and the recording's
camera messages (:mod:`~htt_ros.bags.recording`: the raw CDR, unchanged) on the topics the node
is remapped to subscribe, and records what the node publishes under the
``/htt_replay`` namespace with the wall-clock time of receipt. End-to-end latency of a pose is
its receipt time minus the publish time of the image with the same stamp (one machine, one
monotonic clock); the receipt time, mapped onto the bag's clock, is when the streaming
protocol counts an output as published. Dropped frames are the images the node received but
never ran (its ``frames_dropped_busy``) plus those that did not reach it.
"""

import itertools
import os
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import rclpy
from diagnostic_msgs.msg import DiagnosticArray
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.qos import QoSProfile, ReliabilityPolicy
from rclpy.serialization import deserialize_message
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import CameraInfo, CompressedImage, Image

from htt_ros.bags.bag_io import BagError, stamp_ns
from htt_ros.bags.camera_topics import TRANSPORT_SUFFIX, base_topic
from htt_ros.bags.evaluation import PosePrediction, ReplayRun
from htt_ros.bags.make_bag import to_time
from htt_ros.bags.output_sink import OutputSink
from htt_ros.bags.recording import Recording
from htt_ros.bags.replay import take_in_order
from htt_ros.msg import Action, HandLabels, HandPoses
from htt_ros.ros.qos import latched_qos
from htt_ros.subprocesses import interrupt

NAMESPACE = "/htt_replay"  # each run's node gets its own under it (run_live)
_RUNS = itertools.count()
READY_TIMEOUT_S = 60.0
DRAIN_S = 1.5  # after the last frame: wait this long without new output before stopping
INFO_HEAD_START_S = 1.5  # camera_info this long before the first image; discovery settles
CLOCK_PERIOD_S = 0.05  # /clock while draining, so that the node's sim-time timers keep firing


def image_remap(recording: Recording) -> str:
    """The topic the node's ``image`` is remapped to: the image_transport base topic (the node
    subscribes ``<image>/compressed`` for the compressed stream)."""
    return base_topic(recording.image_topic, recording.image_type)


def published_image_topic(recording: Recording) -> str:
    """Where the player publishes the images: the recording's topic, or for a compressed one
    whose name lacks the transport suffix, that name with it (where the node looks)."""
    if recording.compressed:
        return image_remap(recording) + TRANSPORT_SUFFIX
    return recording.image_topic


class BagPlayer(Node):
    """Publishes the camera topics and /clock; records the node's outputs (each one only with
    ``keep_outputs``: see ReplayRun) and hands them (and the camera messages it publishes) to
    ``sink``, one call at a time."""

    def __init__(
        self,
        recording: Recording,
        num_actions: int,
        namespace: str,
        sink: OutputSink | None = None,
        keep_outputs: bool = True,
    ) -> None:
        super().__init__("htt_bag_player")
        self.namespace = namespace
        reliable = QoSProfile(depth=50, reliability=ReliabilityPolicy.RELIABLE)
        image_type = CompressedImage if recording.compressed else Image
        self.recording = recording
        self.clock_pub = self.create_publisher(Clock, "/clock", 10)
        self.image_pub = self.create_publisher(
            image_type, published_image_topic(recording), reliable
        )
        self.info_pub = self.create_publisher(CameraInfo, recording.camera_info_topic, reliable)
        self.num_actions = num_actions
        self.sink = sink
        self.sink_lock = threading.Lock()  # outputs arrive on the executor's thread
        self.sent_lock = threading.Lock()  # sent_at: filled by the player, taken by outputs
        self.sent_at: dict[int, float] = {}  # by stamp, monotonic, until the frame's pose comes
        self.pose_received: dict[int, float] = {}  # by stamp, monotonic receipt time
        self.action_received: list[float] = []
        self.run = ReplayRun("live", keep_outputs)
        self.last_output = time.monotonic()
        self.diagnostics: dict[str, str] = {}
        self.diagnostics_at = 0.0
        self.hands_sub = self.create_subscription(
            HandPoses, f"{namespace}/hands", self.hands_callback, 1000
        )
        self.create_subscription(Action, f"{namespace}/action", self.action_callback, 1000)
        self.create_subscription(DiagnosticArray, "/diagnostics", self.diagnostics_callback, 10)
        self.active = False  # the node publishes its label sets once it is active
        self.create_subscription(
            HandLabels, f"{namespace}/labels", self.labels_callback, latched_qos()
        )

    def hands_callback(self, msg: HandPoses) -> None:
        now = time.monotonic()
        stamp = stamp_ns(msg)
        prediction = PosePrediction(
            joints3d=np.array([[p.x, p.y, p.z] for h in msg.hands for p in h.joints_3d]),
            joints2d=np.array([[p.x, p.y] for h in msg.hands for p in h.joints_2d]),
            object_id=msg.object.class_id,
        )
        self.run.add_pose(stamp, prediction)
        with self.sent_lock:
            sent = take_in_order(self.sent_at, stamp) if stamp in self.sent_at else None
        if sent is not None:
            self.run.latencies_ms.append(1000 * (now - sent))
        if self.run.keep_outputs:
            self.pose_received[stamp] = now
        self.last_output = now
        if self.sink is not None:
            with self.sink_lock:
                self.sink.hands(msg)

    def action_callback(self, msg: Action) -> None:
        self.last_output = time.monotonic()
        if self.run.keep_outputs:
            scores = np.zeros(self.num_actions)
            for entry in msg.top_k:
                scores[entry.class_id] = entry.score
            self.run.action_scores.append((stamp_ns(msg), scores))
            self.action_received.append(self.last_output)
        if self.sink is not None:
            with self.sink_lock:
                self.sink.action(msg)

    def to_sink(self, message: tuple[str, str, int, bytes]) -> None:
        if self.sink is not None:
            with self.sink_lock:
                self.sink.input_message(*message)

    def diagnostics_callback(self, msg: DiagnosticArray) -> None:
        for status in msg.status:
            if status.name.startswith(f"{self.namespace}/htt_node"):
                self.diagnostics = {kv.key: kv.value for kv in status.values}
                self.diagnostics["message"] = status.message
                self.diagnostics_at = time.monotonic()

    def labels_callback(self, msg: HandLabels) -> None:
        self.active = True

    def publish_clock(self, t_ns: int) -> None:
        self.clock_pub.publish(Clock(clock=to_time(t_ns)))

    def ready(self) -> bool:
        """The node is active (its label sets came), its subscriptions and publisher matched."""
        return (
            self.active
            and self.image_pub.get_subscription_count() > 0
            and self.info_pub.get_subscription_count() > 0
            and self.hands_sub.get_publisher_count() > 0
        )


def node_command(
    model: Path, recording: Recording, params: Sequence[str], namespace: str
) -> list[str]:
    """The node's command line: ``namespace``, sim time, the recording's topics, ``params``
    (``name:=value``)."""
    transport = "compressed" if recording.compressed else "raw"
    args = [
        "-r", f"__ns:={namespace}",
        "-r", f"image:={image_remap(recording)}",
        "-r", f"camera_info:={recording.camera_info_topic}",
        "-p", "use_sim_time:=true",
        "-p", f"model:={model}",
        "-p", f"image_transport:={transport}",
        "-p", "image_qos:=reliable",
        "-p", "image_queue_depth:=10",
        "-p", "diagnostics_period_s:=0.5",
    ]  # fmt: skip
    for param in params:
        args += ["-p", param]
    return [sys.executable, "-m", "htt_ros.ros.htt_node", "--ros-args", *args]


def run_live(
    model: Path,
    recording: Recording,
    num_actions: int,
    rate: float,
    params: Sequence[str],
    sink: OutputSink | None = None,
    keep_outputs: bool = True,
) -> ReplayRun:
    """Play ``recording`` into a fresh node at ``rate`` x recorded speed and record its outputs
    (each one only with ``keep_outputs``); ``sink`` gets the camera messages as they are
    published and the node's HandPoses and Action messages as they arrive.

    :raises BagError: when the node exits early or does not come up (its log is quoted).
    """
    # A namespace of this run's own: a node of another replay, or one still shutting down or
    # lingering in discovery, never answers for this one.
    namespace = f"{NAMESPACE}_{os.getpid()}_{next(_RUNS)}"
    process = subprocess.Popen(
        node_command(model, recording, params, namespace),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        with rclpy.init():
            player = BagPlayer(recording, num_actions, namespace, sink, keep_outputs)
            executor = SingleThreadedExecutor()
            executor.add_node(player)
            spinner = threading.Thread(target=executor.spin, daemon=True)
            spinner.start()
            try:
                start, t0 = _play(player, process, rate)
            finally:
                executor.shutdown()
                spinner.join(5)
            run = player.run
            run.details["node"] = player.diagnostics

            def bag_time(received: float) -> int:  # the bag's clock as the node lived it
                return t0 + round((received - start) * rate * 1e9)

            run.pose_available_ns = {s: bag_time(r) for s, r in player.pose_received.items()}
            run.action_available_ns = [bag_time(r) for r in player.action_received]
    finally:
        log = interrupt(process)
    diagnostics = run.details["node"]
    if not diagnostics:
        raise BagError(f"the node published no diagnostics; its log:\n{log[-3000:]}")
    received = int(diagnostics["frames_received"])
    run.dropped_frames = int(diagnostics["frames_dropped_busy"]) + run.frames_sent - received
    return run


def _play(player: BagPlayer, process: subprocess.Popen, rate: float) -> tuple[float, int]:
    """Play the recording; returns when (monotonic s) its first message was due and its log
    time."""
    recording = player.recording
    info_topic = recording.camera_info_topic
    messages = recording.messages()
    deadline = time.monotonic() + READY_TIMEOUT_S
    first = next(messages, None)
    if first is None:
        raise BagError(
            f"{recording.path} has no messages on {recording.image_topic} or {info_topic}"
        )
    while not player.ready():
        if process.poll() is not None or time.monotonic() > deadline:
            raise BagError(
                f"the node did not subscribe to {player.image_pub.topic_name} within "
                f"{READY_TIMEOUT_S} s; its log:\n{interrupt(process)[-3000:]}"
            )
        player.publish_clock(first[2])
        time.sleep(0.1)
    # The node drops images that come before any camera_info: give it the first one ahead.
    info_msg = next((m[3] for m in recording.messages() if m[0] == info_topic), None)
    if info_msg is None:
        raise BagError(f"{recording.path} has no {info_topic} messages; the node needs them")
    player.info_pub.publish(info_msg)
    time.sleep(INFO_HEAD_START_S)
    run, t0 = player.run, first[2]
    start = time.monotonic()
    for message in itertools.chain([first], messages):
        topic, _, log_ns, raw = message
        delay = start + (log_ns - t0) / 1e9 / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        if process.poll() is not None:
            raise BagError(
                f"the node exited during replay; its log:\n{interrupt(process)[-3000:]}"
            )
        player.publish_clock(log_ns)
        player.to_sink(message)
        if topic == info_topic:
            player.info_pub.publish(raw)
            continue
        stamp = stamp_ns(deserialize_message(raw, player.image_pub.msg_type))
        with player.sent_lock:
            player.sent_at[stamp] = time.monotonic()
        player.image_pub.publish(raw)
        run.frames_sent += 1
    last_sent, sim = time.monotonic(), log_ns
    # Until the outputs stop and a diagnostics status newer than the last output has come.
    while (
        time.monotonic() - player.last_output < DRAIN_S
        or player.diagnostics_at <= player.last_output
    ):
        if time.monotonic() - last_sent > 10 * DRAIN_S + 10:
            break
        sim += round(CLOCK_PERIOD_S * rate * 1e9)
        player.publish_clock(sim)
        time.sleep(CLOCK_PERIOD_S)
    run.wall_s = player.last_output - start
    return start, t0
