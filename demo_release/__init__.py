"""A demo Alluxio 1.2.0 release: the real layout and scripts' behaviour, stand-in daemons.

It stands in for ``alluxio-1.2.0-cdh5-bin.tar.gz`` (which cannot be downloaded here) so that the
deploy tool can be exercised in the lab; a real tarball is used the same way.
"""

from demo_release.build import RELEASE, TARBALL, build

__all__ = ["RELEASE", "TARBALL", "build"]
