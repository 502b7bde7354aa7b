"""Hand skeleton topology shared by the data readers, the model card and the ROS messages.

Joint order is the one HTT trains with (FPHA re-ordered, H2O native): wrist first, then four
joints per finger from the palm outwards (MCP, PIP, DIP, TIP), thumb to little finger. Two-hand
models (H2O) stack the left hand (joints 0-20) before the right hand (joints 21-41).
"""

FINGERS: tuple[str, ...] = ("thumb", "index", "middle", "ring", "little")
FINGER_JOINTS: tuple[str, ...] = ("mcp", "pip", "dip", "tip")

JOINTS_PER_HAND = 21
JOINT_NAMES: tuple[str, ...] = (
    "wrist",
    *(f"{finger}_{joint}" for finger in FINGERS for joint in FINGER_JOINTS),
)

# Bones as (parent, child) joint indices in one hand: wrist to each MCP, then along each finger.
BONES: tuple[tuple[int, int], ...] = tuple(
    pair
    for f in range(len(FINGERS))
    for pair in [(0, 1 + 4 * f)] + [(1 + 4 * f + k, 2 + 4 * f + k) for k in range(3)]
)

HAND_LEFT = "left"
HAND_RIGHT = "right"


def hands_for_joint_count(num_joints: int) -> tuple[str, ...]:
    """Return the hands a model with ``num_joints`` outputs predicts, in output order.

    21 joints is one right hand (FPHA), 42 is left then right (H2O).
    """
    if num_joints == JOINTS_PER_HAND:
        return (HAND_RIGHT,)
    if num_joints == 2 * JOINTS_PER_HAND:
        return (HAND_LEFT, HAND_RIGHT)
    raise ValueError(
        f"unsupported joint count {num_joints}: HTT predicts 21 joints (one right hand, FPHA) "
        f"or 42 (left then right hand, H2O)"
    )
