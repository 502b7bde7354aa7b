"""Progress on stderr: plain lines without carriage returns in a log, a tqdm bar on a terminal."""

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios
from pathlib import Path

from htt_ros.progress import Progress, duration


def test_a_command_logs_plain_progress_lines_without_carriage_returns(tmp_path: Path) -> None:
    bag = tmp_path / "bag"
    command = [sys.executable, "-m", "htt_ros.tools.htt_make_bag", str(bag)]
    command += ["--layout", "synthetic-fpha", "--sequences", "1", "--frames", "6"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "\r" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("htt-make-bag: ")]
    assert lines and lines[-1].startswith("htt-make-bag: writing bag: 6/6 frames, ")
    assert " frames/s, done in " in lines[-1]


def test_a_terminal_gets_the_tqdm_bar() -> None:
    script = (
        "from htt_ros.progress import progress_iter\n"
        "for _ in progress_iter(range(3), 'htt-test'): pass\n"
    )
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # 100 columns
    process = subprocess.Popen([sys.executable, "-c", script], stderr=follower)
    os.close(follower)
    output = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the pseudo-terminal closes when the child exits
            break
        if not chunk:
            break
        output += chunk
    os.close(leader)
    assert process.wait(timeout=60) == 0
    text = output.decode()
    assert "\r" in text and "htt-test:   0%|" in text and "0/3 [" in text  # tqdm's bar
    assert "frames/s, done in" not in text  # and no plain line


class _Log:
    """A stream that is not a terminal, keeping what is written."""

    def __init__(self) -> None:
        self.text = ""

    def isatty(self) -> bool:
        return False

    def write(self, text: str) -> None:
        self.text += text

    def flush(self) -> None:
        pass


def test_plain_line_has_count_rate_and_eta() -> None:
    progress = Progress("htt-replay", 18000, stream=_Log())
    progress.count = 1200
    line = progress.line(40.0)
    assert line == "htt-replay: 1200/18000 frames, 30.0 frames/s, ETA 9 min 20 s"
    progress.set_postfix("loss 0.123")
    assert progress.line(10.0, final=True).endswith("120.0 frames/s, done in 10 s, loss 0.123")


def test_disabled_progress_writes_nothing() -> None:
    log = _Log()
    with Progress("htt-replay", 10, enabled=False, stream=log) as progress:
        progress.update(10)
    assert log.text == ""


def test_durations_read_like_a_person_writes_them() -> None:
    assert [duration(s) for s in (0.4, 12, 540, 3720)] == ["0 s", "12 s", "9 min 0 s", "1 h 2 min"]
