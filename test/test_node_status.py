"""The /diagnostics status: windowed rates, thresholds, and no false WARN on the first reports."""

from diagnostic_msgs.msg import DiagnosticStatus

from htt_ros.ros.node_status import RATE_WINDOW_S, NodeStatus, Thresholds

THRESHOLDS = Thresholds(max_drop_ratio=0.5, max_stamp_age_ms=500.0, rate_tolerance=0.3)


def run(status: NodeStatus, seconds: float, input_hz: float, output_hz: float, dropped=0.0):
    """Report every 0.5 s for ``seconds`` with the counters advancing at the given rates."""
    reports, t = [], 0.0
    while t <= seconds:
        status.frames_received = int(input_hz * t)
        status.poses_published = int(output_hz * t)
        reports.append(
            status.report(int(dropped * t), status.poses_published, 15.0, THRESHOLDS, t)
        )
        t += 0.5
    return reports


def values(report: DiagnosticStatus) -> dict[str, str]:
    return {kv.key: kv.value for kv in report.values}


def active() -> NodeStatus:
    return NodeStatus("/htt_node", "onnxruntime", "", state="active")


def test_a_healthy_stream_is_ok_from_the_first_report() -> None:
    reports = run(active(), 10.0, input_hz=30.0, output_hz=15.0)
    assert [r.level for r in reports[1:]] == [DiagnosticStatus.OK] * (len(reports) - 1)
    assert values(reports[-1])["expected_rate_hz"] == "15.00"


def test_a_slow_start_is_no_false_warn_but_a_slow_output_is() -> None:
    status = active()
    # Nothing published for the first 3 s (a segment filling, a slow first inference).
    early = run(status, 3.0, input_hz=30.0, output_hz=0.0)
    assert all(r.level == DiagnosticStatus.OK for r in early[1:])
    status = active()
    reports = run(status, 2 * RATE_WINDOW_S, input_hz=30.0, output_hz=5.0)
    assert reports[-1].level == DiagnosticStatus.WARN
    assert "output 5.0 Hz, expected 15.0 Hz" in reports[-1].message


def test_drops_and_old_stamps_turn_the_status_warn() -> None:
    status = active()
    reports = run(status, 2 * RATE_WINDOW_S, input_hz=30.0, output_hz=15.0, dropped=20.0)
    assert "dropped while inference was busy" in reports[-1].message
    status = active()
    for _ in range(10):
        status.record_latency(0.0, stamp_ns=0, now_ns=900_000_000)
    reports = run(status, 2 * RATE_WINDOW_S, input_hz=30.0, output_hz=15.0)
    assert "poses are 900 ms older than their image stamps" in reports[-1].message
    assert values(reports[-1])["stamp_age_ms_median"] == "900.0"


def test_the_lifecycle_state_and_a_model_error_come_first() -> None:
    status = NodeStatus("/htt_node", "onnxruntime", "", state="loading")
    assert status.report(0, 0, 0.0, THRESHOLDS, 0.0).message.startswith("loading")
    status.model_error = "backend onnxruntime cannot start: pip install onnxruntime"
    report = status.report(0, 0, 0.0, THRESHOLDS, 1.0)
    assert report.level == DiagnosticStatus.ERROR and "pip install" in report.message
