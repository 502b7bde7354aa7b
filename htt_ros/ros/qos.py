"""QoS profiles selected by name from a parameter, and the per-topic overrides users set.

Every publisher and subscription of the node is created with :func:`overridable`, so a
parameters file can set ``qos_overrides./<topic>.<publisher|subscription>.<policy>`` (history,
depth, reliability, durability) for each topic; ``image_qos`` only picks the starting profile.
"""

from rclpy.qos import (
    DurabilityPolicy,
    HistoryPolicy,
    QoSProfile,
    ReliabilityPolicy,
    qos_profile_system_default,
)
from rclpy.qos_overriding_options import QoSOverridingOptions, QoSPolicyKind

# A reliable writer resends a sample lost on the way, and learns that a reader took one, at its
# next heartbeat: every 3 s by default in Fast DDS. A wait for either must run past that.
RELIABLE_REPAIR_S = 4.0
OVERRIDABLE_POLICIES = (
    QoSPolicyKind.HISTORY,
    QoSPolicyKind.DEPTH,
    QoSPolicyKind.RELIABILITY,
    QoSPolicyKind.DURABILITY,
)


def overridable() -> QoSOverridingOptions:
    """Options that declare the read-only ``qos_overrides.*`` parameters of one topic."""
    return QoSOverridingOptions(policy_kinds=OVERRIDABLE_POLICIES)


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


QOS_OVERRIDE_CHOICES = {
    "history": ("keep_last", "keep_all", "system_default"),
    "reliability": ("reliable", "best_effort", "system_default", "best_available"),
    "durability": ("volatile", "transient_local", "system_default", "best_available"),
}


def qos_override_problem(name: str, value: object) -> str | None:
    """Why a ``qos_overrides.<topic>.<entity>.<policy>`` value would be refused, or None."""
    policy = name.rsplit(".", 1)[-1]
    if policy == "depth":
        if type(value) is int and value >= 0:
            return None
        return f"QoS override '{name}' must be an integer >= 0, got {value!r}"
    choices = QOS_OVERRIDE_CHOICES.get(policy)
    if choices is None or value in choices:
        return None
    return f"QoS override '{name}' must be one of {', '.join(choices)}, got {value!r}"
