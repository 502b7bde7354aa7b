"""The one-slot worker: the producer never waits, the newest frame wins, drops are counted."""

import threading
import time

from htt_ros.ros.frame_worker import FrameWorker


def test_busy_worker_drops_all_but_the_newest_frame_without_blocking() -> None:
    started, release = threading.Event(), threading.Event()
    processed: list[int] = []

    def slow(item: int) -> None:
        if item == 0:
            started.set()
            release.wait(5)
        processed.append(item)

    worker = FrameWorker(slow)
    worker.offer(0)
    assert started.wait(5)  # the worker is now stuck on item 0
    start = time.monotonic()
    replaced = [worker.offer(i) for i in range(1, 50)]
    assert time.monotonic() - start < 0.1  # offering never waited for inference
    assert replaced == [False] + [True] * 48
    release.set()
    deadline = time.monotonic() + 5
    while len(processed) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    worker.stop()
    assert processed == [0, 49]
    assert worker.dropped == 48


def test_idle_worker_processes_every_frame() -> None:
    processed: list[int] = []
    worker = FrameWorker(processed.append)
    for i in range(20):
        worker.offer(i)
        deadline = time.monotonic() + 2
        while len(processed) <= i and time.monotonic() < deadline:
            time.sleep(0.001)
    worker.stop()
    assert processed == list(range(20)) and worker.dropped == 0
