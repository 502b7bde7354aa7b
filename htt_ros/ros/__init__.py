"""The ROS 2 side of htt_ros: the only modules that import rclpy and the message types."""
