#!/usr/bin/env bash
# The main job: build the demo release, bring up the lab (the post's four hosts), converge them
# into an Alluxio cluster with the deploy, and show it healthy. The lab stays up afterwards;
# `.venv/bin/python -m lab down` removes it.
set -euo pipefail
cd "$(dirname "$0")"
PY=.venv/bin/python
TARBALL=build/alluxio-1.2.0-cdh5-bin.tar.gz

$PY -m demo_release --out build
$PY -m lab up
$PY -m lab run .venv/bin/pyinfra inventory.py deploy.py -y --data "alluxio_tarball=$TARBALL"

echo
echo "--> The master's web UI, as seen from the control namespace:"
$PY -m lab run python3 - <<'PY'
import json, re, urllib.request
base = "http://server08:19999"
count = json.load(urllib.request.urlopen(f"{base}/v1/api/master/worker_count", timeout=5))
workers = [w["address"]["host"] for w in json.load(urllib.request.urlopen(f"{base}/v1/api/master/worker_info_list", timeout=5))]
home = urllib.request.urlopen(f"{base}/home", timeout=5).read().decode()
running = re.search(r"Running Workers: \d+", home).group(0)
print(f"    {base}/home: {running}")
print(f"    live workers: {count} ({', '.join(sorted(workers))})")
raise SystemExit(0 if count == 3 else 1)
PY
