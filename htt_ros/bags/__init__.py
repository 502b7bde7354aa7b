"""Rosbag2 tools: ``htt-make-bag`` writes data set sequences into bags, ``htt-replay`` evaluates a
model on them (offline through the streaming pipeline, or live through the node)."""
