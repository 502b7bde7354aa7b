"""The node's output topic names, relative to its namespace (the output bag puts them at the
root, where a node without a namespace publishes them)."""

HANDS = "hands"
ACTION = "action"
LABELS = "labels"
MARKERS = "markers"
ANNOTATED = "annotated"
