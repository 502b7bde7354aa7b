"""htt_ros: egocentric 3D hand pose, object and action recognition (HTT) for ROS 2.

The generated message types live in ``htt_ros.msg`` and exist only in an installed copy of the
package (pip or colcon). ``extend_path`` lets ``htt_ros.msg`` resolve from that installed copy
even when this source folder comes first on ``sys.path`` (running from the repository root), so
source edits are live without a rebuild. Keep this module free of ROS, torch and generated code.
"""

from pkgutil import extend_path

__path__ = extend_path(__path__, __name__)

__version__ = "0.1.0"
