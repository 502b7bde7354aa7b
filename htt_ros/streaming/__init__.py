"""The frame-by-frame pipeline the robot runs, without ROS: frames in, poses and actions out."""
