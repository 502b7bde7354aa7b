"""CPU time and resident memory of a process, read from Linux's /proc (no extra library)."""

import os
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

TICKS_PER_S = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Usage:
    """One sample: wall-clock time (s, to compare with message stamps), CPU seconds used so far
    (user + system), resident MiB."""

    t: float
    cpu_s: float
    rss_mb: float


def sample(pid: int) -> Usage | None:
    """The process's usage now, or None once it has exited (a zombie, not yet reaped, has no
    VmRSS)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    rss = [int(line.split()[1]) for line in status.splitlines() if line[:6] == "VmRSS:"]
    if not rss:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) "; comm may hold spaces
    cpu_s = (int(fields[11]) + int(fields[12])) / TICKS_PER_S  # utime, stime
    return Usage(time.time(), cpu_s, rss[0] / 1024)


def summarize(samples: list[Usage], memory_from: float = 0.0, edge: int = 5) -> dict:
    """CPU use (percent of one core) over ``samples``; resident memory at the start, end and peak
    of the samples from time ``memory_from`` on (of all samples where fewer than two are that
    late), and its growth over those late samples: the median of the last ``edge`` less that of
    the first (a median, so that a short burst at either end, such as a report drawn at the end
    of a run, does not count as growth), None where fewer than two are that late."""
    if len(samples) < 2:
        return {"cpu_percent": None, "rss_mb": None, "rss_growth_mb": None}
    first, last = samples[0], samples[-1]
    cpu = 100 * (last.cpu_s - first.cpu_s) / (last.t - first.t)
    late = [s for s in samples if s.t >= memory_from]
    memory = late if len(late) >= 2 else samples
    n = max(1, min(edge, len(memory) // 2))
    start = statistics.median(s.rss_mb for s in memory[:n])
    end = statistics.median(s.rss_mb for s in memory[-n:])
    peak = max(s.rss_mb for s in memory)
    return {
        "cpu_percent": cpu,
        "rss_mb": {"start": start, "end": end, "max": peak},
        "rss_growth_mb": end - start if memory is late else None,
    }
