"""htt_ros.__version__ is package.xml's <version> (the install tests check the installed copy)."""

from pathlib import Path

import htt_ros

PACKAGE_XML = Path(__file__).resolve().parents[1] / "package.xml"


def test_version_comes_from_package_xml() -> None:
    assert htt_ros.__version__ != "unknown"
    assert f"<version>{htt_ros.__version__}</version>" in PACKAGE_XML.read_text()
