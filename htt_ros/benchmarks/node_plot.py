"""The node benchmark's figure: latency histogram, the node's memory and CPU over the run, and
the peak-throughput steps when they were measured."""

from pathlib import Path

from matplotlib.figure import Figure  # no pyplot: draws to a file without a display

from htt_ros.benchmarks.node_benchmark import Series


def plot_node_benchmark(path: Path, node: dict, series: Series) -> Path:
    """Write the figure of ``node`` (the JSON's ``node`` section) and ``series`` to ``path``."""
    panels = 3 if series.peak_steps else 2
    fig = Figure(figsize=(5 * panels, 4))
    axes = fig.subplots(1, panels)
    camera = f"camera {node['camera']['rate_hz']:g} Hz"
    model = f"{node.get('backend', '?')} {node.get('precision', '?')}"

    ax = axes[0]
    if len(series.latencies_ms):
        ax.hist(series.latencies_ms, bins=60, color="tab:blue")
        for key, style in (("p50", "-"), ("p99", "--")):
            value = node["latency_ms"][key]
            ax.axvline(value, color="black", linestyle=style, label=f"{key} {value:.1f} ms")
        ax.legend()
    ax.set(xlabel="image stamp to pose received, ms", ylabel="poses")
    ax.set_title(f"latency ({camera}, {model})")

    ax = axes[1]
    if len(series.usage) >= 2:
        t0 = series.usage[0].t
        times = [u.t - t0 for u in series.usage]
        ax.plot(times, [u.rss_mb for u in series.usage], color="tab:green")
        cpu = ax.twinx()
        steps = list(zip(series.usage, series.usage[1:], strict=False))
        cpu.plot(
            times[1:],
            [100 * (b.cpu_s - a.cpu_s) / (b.t - a.t) for a, b in steps],
            color="tab:red",
            alpha=0.4,
        )
        cpu.set_ylabel("CPU, % of one core", color="tab:red")
    growth = node.get("rss_growth_mb")
    title = "node memory" + (f" (grew {growth:+.1f} MB)" if growth is not None else "")
    ax.set(xlabel="s", ylabel="resident memory, MB", title=title)

    if series.peak_steps:
        ax = axes[2]
        rates = [step["rate_hz"] for step in series.peak_steps]
        drops = [100 * (step["drop_fraction"] or 0.0) for step in series.peak_steps]
        ax.plot(rates, drops, "o-")
        ax.axhline(5, color="black", linestyle="--", label="5 %")
        ax.set(xlabel="camera rate, Hz (every frame taken)", ylabel="dropped, %")
        ax.set_title(f"peak throughput {node['peak_input_hz']} Hz")
        ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    return path
