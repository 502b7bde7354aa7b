"""Stopping the child processes the tools start (the node, a camera) as Ctrl-C would."""

import signal
import subprocess


def interrupt(process: subprocess.Popen, timeout: float = 20.0) -> str:
    """Send SIGINT to ``process`` if it still runs, wait up to ``timeout`` seconds (then kill
    it), and return its captured output ("" when it was not captured). The exit code is then in
    ``process.returncode``."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
    try:
        output = process.communicate(timeout=timeout)[0]
    except subprocess.TimeoutExpired:
        process.kill()
        output = process.communicate()[0]
    return output or ""
