"""Demo Alluxio releases (1.2.0, 1.3.0): the real layout and the scripts' behaviour from the
outside, with stand-in JVM programs.

They stand in for the release tarballs (which cannot be downloaded here) so that the deploy
tool can be exercised in the lab; a real tarball is used the same way.
"""

from demo_release.build import RELEASES, VERSIONS, BuildError, build

__all__ = ["RELEASES", "VERSIONS", "BuildError", "build"]
