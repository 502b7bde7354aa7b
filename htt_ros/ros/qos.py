"""QoS profiles selected by name from a parameter."""

from rclpy.qos import (
    DurabilityPolicy,
    HistoryPolicy,
    QoSProfile,
    ReliabilityPolicy,
    qos_profile_system_default,
)


def input_qos(name: str, depth: int) -> QoSProfile:
    """QoS for camera subscriptions: ``sensor_data`` (best effort, keep last ``depth``),
    ``best_effort``, ``reliable`` or ``system_default``."""
    if name == "system_default":
        return qos_profile_system_default
    reliability = (
        ReliabilityPolicy.RELIABLE if name == "reliable" else ReliabilityPolicy.BEST_EFFORT
    )
    return QoSProfile(
        history=HistoryPolicy.KEEP_LAST,
        depth=depth,
        reliability=reliability,
        durability=DurabilityPolicy.VOLATILE,
    )


def latched_qos() -> QoSProfile:
    """QoS for data published once and kept for late subscribers (label sets)."""
    return QoSProfile(
        history=HistoryPolicy.KEEP_LAST,
        depth=1,
        reliability=ReliabilityPolicy.RELIABLE,
        durability=DurabilityPolicy.TRANSIENT_LOCAL,
    )
