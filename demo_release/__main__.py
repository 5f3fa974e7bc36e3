"""``python -m demo_release [--version V] [--out DIR] [--pad-mb N]``: build a demo release."""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

from demo_release.build import VERSIONS, BuildError, build


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m demo_release", description=__doc__)
    parser.add_argument("--version", default="1.2.0", choices=VERSIONS, help="release (default 1.2.0)")
    parser.add_argument("--out", type=Path, default=Path("build"), help="output folder (build/)")
    parser.add_argument("--pad-mb", type=int, default=0, help="pad the jar to N MiB (e.g. 128)")
    args = parser.parse_args()
    try:
        path = build(args.out, args.pad_mb, args.version)
    except BuildError as error:
        print(f"demo_release: {error}", file=sys.stderr)
        return 1
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    print(f"{path}\t{path.stat().st_size} bytes\tsha256 {digest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
