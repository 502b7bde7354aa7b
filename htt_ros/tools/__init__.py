"""Every command-line tool of htt_ros, one module per command, named like the command.

``htt_<name>.py`` is the command ``htt-<name>``: a pip console script in a venv and an executable
under ``lib/htt_ros/`` (CMakeLists.txt installs one for each module here), so ``ros2 run htt_ros
htt-<name>`` after ``colcon build`` runs the same program as ``htt-<name>`` after ``pip install``.
"""
