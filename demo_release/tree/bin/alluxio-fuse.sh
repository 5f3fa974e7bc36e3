#!/usr/bin/env bash
#
# Demo stand-in for Alluxio @VERSION@, written for alluxio-reconcile (none of Alluxio's code).
# The release mounts Alluxio through FUSE with this script; the demo release has no FUSE
# client, so it only says so.
#

echo "alluxio-fuse.sh: the demo release of Alluxio @VERSION@ has no FUSE client" >&2
exit 1
