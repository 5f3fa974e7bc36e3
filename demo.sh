#!/usr/bin/env bash
# The main job, in the lab: build the demo release and bring up the post's four hosts.
set -euo pipefail
cd "$(dirname "$0")"
PY=.venv/bin/python
$PY -m demo_release --out build
$PY -m lab up
$PY -m lab status
