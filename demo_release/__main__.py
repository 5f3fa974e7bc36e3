"""``python -m demo_release [--out DIR] [--pad-mb N]``: build alluxio-1.2.0-cdh5-bin.tar.gz."""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

from demo_release.build import build


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m demo_release", description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("build"), help="output folder (build/)")
    parser.add_argument("--pad-mb", type=int, default=0, help="pad the jar to N MiB (e.g. 128)")
    args = parser.parse_args()
    path = build(args.out, args.pad_mb)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    print(f"{path}\t{path.stat().st_size} bytes\tsha256 {digest}")


if __name__ == "__main__":
    main()
