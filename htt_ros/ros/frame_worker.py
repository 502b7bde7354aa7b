"""A single inference thread fed through a one-slot mailbox.

The image callback only drops the newest frame into the slot and returns; if the worker is still
busy with an earlier frame, the frame waiting in the slot is replaced and counted as dropped.
Nothing queues without bound, and the callback never waits for inference.
"""

import threading
from collections.abc import Callable
from typing import Any


class FrameWorker:
    """Runs ``process(item)`` on a background thread for the latest offered item."""

    def __init__(self, process: Callable[[Any], None], name: str = "htt_inference") -> None:
        self._process = process
        self._slot: Any = None
        self._has_item = False
        self._stopping = False
        self._condition = threading.Condition()
        self.dropped = 0
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    def offer(self, item: Any) -> bool:
        """Hand ``item`` to the worker; returns True if it replaced an unprocessed one."""
        with self._condition:
            replaced = self._has_item
            self.dropped += int(replaced)
            self._slot, self._has_item = item, True
            self._condition.notify()
        return replaced

    def stop(self, timeout: float = 5.0) -> None:
        with self._condition:
            self._stopping = True
            self._condition.notify()
        self._thread.join(timeout)

    def _loop(self) -> None:
        while True:
            with self._condition:
                self._condition.wait_for(lambda: self._has_item or self._stopping)
                if self._stopping:
                    return
                item, self._slot, self._has_item = self._slot, None, False
            self._process(item)
