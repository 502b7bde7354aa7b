"""htt_ros: egocentric 3D hand pose, object and action recognition (HTT) for ROS 2.

The generated message types live in ``htt_ros.msg`` and exist only in an installed copy of the
package (pip or colcon). ``extend_path`` lets ``htt_ros.msg`` resolve from that installed copy
even when this source folder comes first on ``sys.path`` (running from the repository root), so
source edits are live without a rebuild. Keep this module free of ROS, torch and generated code.

``__version__`` is package.xml's ``<version>``, the one place it is written (pyproject.toml reads
it there too).
"""

import re
from pathlib import Path
from pkgutil import extend_path

__path__ = extend_path(__path__, __name__)


def _package_xml_version() -> str:
    """``<version>`` of package.xml: beside this folder in a checkout, in share/htt_ros of the
    install prefix when installed (``<prefix>/lib/python3.X/site-packages/htt_ros``)."""
    here = Path(__file__).resolve().parent
    candidates = [here.parent / "package.xml"]
    if len(here.parents) > 3:
        candidates.append(here.parents[3] / "share" / "htt_ros" / "package.xml")
    for xml in candidates:
        match = xml.is_file() and re.search(r"<version>\s*([^<\s]+)\s*</version>", xml.read_text())
        if match:
            return match.group(1)
    return "unknown"


__version__ = _package_xml_version()
