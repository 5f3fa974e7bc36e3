"""Small helpers for end-to-end tests in the lab."""

from __future__ import annotations

import json
import time

from lab import Lab

POST_WORKERS = ("server06", "server07", "server08")
MASTER = "server08"


def ssh(lab: Lab, host: str, command: str, check: bool = True) -> str:
    """Run ``command`` on ``host`` over real ssh from the control namespace."""
    result = lab.run(["ssh", "-o", "BatchMode=yes", host, command], capture_output=True, text=True)
    if check and result.returncode != 0:
        raise AssertionError(f"ssh {host} {command!r} failed: {result.stderr}")
    return result.stdout


def fetch(lab: Lab, url: str) -> str:
    """GET ``url`` from the control namespace (the only place lab addresses are reachable)."""
    code = "import sys, urllib.request;print(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())"
    result = lab.run(["python3", "-c", code, url], capture_output=True, text=True)
    if result.returncode != 0:
        raise AssertionError(f"GET {url} failed: {result.stderr}")
    return result.stdout


def worker_count(lab: Lab, master: str = MASTER) -> int:
    return json.loads(fetch(lab, f"http://{master}:19999/v1/api/master/worker_count"))


def wait_worker_count(lab: Lab, want: int, seconds: float = 15, master: str = MASTER) -> int:
    """The live worker count once it equals ``want``, or the last one seen after ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        count = worker_count(lab, master)
        if count == want or time.monotonic() > deadline:
            return count
        time.sleep(0.5)
