#!/usr/bin/env bash
# Demo stand-in for Alluxio 1.2.0 (written for this project): the FUSE client is not part of
# the demo; the script is here because the real release has it.
echo "alluxio-fuse.sh: the demo release has no FUSE client" >&2
exit 1
