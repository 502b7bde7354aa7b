"""Shared test set-up: every process a test starts talks DDS on a private domain on loopback."""

import os
import random

# Before rclpy is imported anywhere: one domain per test session, traffic kept on this host.
os.environ.setdefault("ROS_DOMAIN_ID", str(random.Random(os.getpid()).randint(100, 200)))
os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
