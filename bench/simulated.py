"""A simulated cluster for the control side: a pyinfra connector that answers each host's one
read from a state recorded on real lab hosts, rewritten for hundreds of hosts, in process.

What a no-op converge, a dry run or a drift report costs on the operator's machine grows with
the number of hosts, while the hosts' own work does not land there; the lab cannot show that
past 64 hosts, since its hosts share the machine's two cores with the control process. Here
every host answers from memory, so what is measured is the control process alone: pyinfra's
bookkeeping, this tool's parsing, deciding and reporting. The SSH handshake it skips is
measured on its own against real sshds (see bench/__main__.py).

    python -m bench.simulated record OUT -- ARGV...    # ARGV against the lab, recording reads
    python -m bench.simulated expand OUT N NAMES       # answers for N hosts, from OUT's record
    python -m bench.simulated run OUT -- ARGV...       # ARGV against OUT's answers

``record`` runs a real no-op converge through pyinfra's SSH connector, keeping each host's
answer to the one read (the command that holds the node snapshot's separator). ``expand``
rewrites them for N hosts: the master keeps its name; every other host (named after the
template) answers as the recorded worker ``template`` does, each line naming it repeated once
per simulated worker, lines naming the other recorded workers dropped, and the digests and
sizes of the files so rewritten made true again. A first run of the tool against the
expansion writes each host's record of what was applied (``learn``: it accepts every command,
keeping only that record); after that a host accepts nothing but the read, and a run that asks
anything else fails, naming it in ``unexpected.txt``.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import runpy
import sys
import tarfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from pyinfra.api.command import StringCommand
from pyinfra.connectors.base import BaseConnector
from pyinfra.connectors.ssh import SSHConnector
from pyinfra.connectors.util import CommandOutput, OutputLine

from facts.node import SEPARATOR
from layout import RECORD

STATE: Path | None = None  # the folder of recorded or expanded answers, set by main()
MODE = "run"  # record, learn or run


def _answer_path(name: str) -> Path:
    assert STATE is not None
    return STATE / "hosts" / f"{name}.txt"


def _raw(command: StringCommand | str) -> str:
    return command if isinstance(command, str) else command.get_raw_value()


class Recording(SSHConnector):
    """pyinfra's SSH connector, keeping each host's answer to the snapshot read."""

    def run_shell_command(
        self, command: StringCommand | str, *args: Any, **kwargs: Any
    ) -> tuple[bool, CommandOutput]:
        ok, output = super().run_shell_command(command, *args, **kwargs)  # type: ignore[arg-type]
        if SEPARATOR in _raw(command) and ok:
            path = _answer_path(self.host.name)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("".join(f"{line}\n" for line in output.stdout_lines))
        return ok, output


class Simulated(BaseConnector):
    """A host that answers the snapshot read from its file; ``learn`` also takes the write of
    the tool's record of what was applied, into that file."""

    handles_execution = True

    @staticmethod
    def make_names_data(name: str) -> Iterator[tuple[str, dict[str, Any], list[str]]]:
        yield name, {}, []

    def run_shell_command(
        self, command: StringCommand | str, *args: Any, **kwargs: Any
    ) -> tuple[bool, CommandOutput]:
        raw = _raw(command)
        path = _answer_path(self.host.name)
        if SEPARATOR in raw:
            lines = path.read_bytes().decode().splitlines()
            return True, CommandOutput([OutputLine("stdout", line) for line in lines])
        if MODE == "learn":  # the converge that writes each host's record: it takes its lock
            if RECORD in raw and (written := re.search(r"printf %s (\S+) \| base64 -d", raw)):
                applied = base64.b64decode(written.group(1)).decode()
                path.write_text(_with_section(path.read_text(), "applied", applied))
            with (STATE / "learned.txt").open("a") as log:  # type: ignore[operator]
                log.write(f"{self.host.name}: {raw[:200]}\n")
            said = "acquired" if "lock.sh" in raw and " acquire " in raw else ""
            return True, CommandOutput([OutputLine("stdout", said)] if said else [])
        with (STATE / "unexpected.txt").open("a") as log:  # type: ignore[operator]
            log.write(f"{self.host.name}: {raw[:300]}\n")
        return False, CommandOutput(
            [OutputLine("stderr", f"simulated host: unexpected command: {raw[:200]}")]
        )

    def put_file(self, *args: Any, **kwargs: Any) -> bool:
        raise RuntimeError("a simulated host takes no file")

    def get_file(self, *args: Any, **kwargs: Any) -> bool:
        raise RuntimeError("a simulated host gives no file")


# ----- the expansion ----------------------------------------------------------------------------
def _sections(text: str) -> list[tuple[str, list[str]]]:
    out: list[tuple[str, list[str]]] = [("", [])]
    for line in text.splitlines():
        if line.startswith(SEPARATOR + " "):
            out.append((line.split(" ", 1)[1], []))
        else:
            out[-1][1].append(line)
    return out


def _join(sections: list[tuple[str, list[str]]]) -> str:
    lines = [*sections[0][1]]
    for name, body in sections[1:]:
        lines += [f"{SEPARATOR} {name}", *body]
    return "".join(f"{line}\n" for line in lines)


def _with_section(text: str, name: str, body: str) -> str:
    sections = [(n, b) if n != name else (n, body.splitlines()) for n, b in _sections(text)]
    return _join(sections)


def _rewrite_lines(
    text: str, template: tuple[str, str], dropped: list[tuple[str, str]], workers: dict[str, str]
) -> str:
    """Each line naming the template worker (name or address) once per simulated worker; lines
    naming another recorded worker dropped."""
    name, address = template
    pattern = re.compile(rf"(?<![\w.-])({re.escape(name)}|{re.escape(address)})(?![\w-]|\.\d)")
    drop = re.compile(
        "|".join(rf"(?<![\w.-]){re.escape(x)}(?![\w-]|\.\d)" for pair in dropped for x in pair) or "(?!)"
    )
    out = []
    for line in text.splitlines(keepends=True):
        if drop.search(line):
            continue
        parts = pattern.split(line)  # the matches at the odd places
        if len(parts) == 1:
            out.append(line)
            continue
        for worker, at in workers.items():
            out.append("".join(worker if p == name else at if i % 2 else p for i, p in enumerate(parts)))
    return "".join(out)


def _rewrite_files(encoded: str, rewrite: Callable[[str], str]) -> tuple[str, dict[str, bytes]]:
    """The snapshot's files (a base64 tar) with every text file rewritten; and the new contents."""
    target, changed = io.BytesIO(), {}
    with (
        tarfile.open(fileobj=io.BytesIO(base64.b64decode(encoded))) as source,
        tarfile.open(fileobj=target, mode="w", format=source.format) as out,
    ):
        for member in source.getmembers():
            data = source.extractfile(member).read() if member.isfile() else None  # type: ignore[union-attr]
            if data is not None:
                new = rewrite(data.decode(errors="surrogateescape")).encode(errors="surrogateescape")
                if new != data:
                    changed[member.name] = new
                data, member.size = new, len(new)
            out.addfile(member, io.BytesIO(data) if data is not None else None)
    return base64.b64encode(target.getvalue()).decode(), changed


def _rewrite_install(body: list[str], install_dir: str, changed: dict[str, bytes]) -> list[str]:
    """The release folder's listing, its rewritten files' sizes and digests made true."""
    relative = {
        name.lstrip("/").removeprefix(install_dir.lstrip("/") + "/"): data for name, data in changed.items()
    }
    out = []
    for line in body:
        words = line.split(" ")
        path = line.rsplit(" ", 1)[-1]
        if words[0] == "entry" and path in relative:
            words[5] = str(len(relative[path]))
            line = " ".join(words)
        elif words[0] == "sum" and path in relative:
            line = f"sum {hashlib.sha256(relative[path]).hexdigest()}  {path}"
        out.append(line)
    return out


def _rewrite_listed(line: str, template: str, dropped: list[str], workers: dict[str, str]) -> str:
    """The master's REST list of workers: the template's entry once per simulated worker."""
    entries = json.loads(line.split(" ", 1)[1])
    model = next(e for e in entries if e["address"]["host"] == template)
    kept = [e for e in entries if e["address"]["host"] not in (template, *dropped)]
    for name in workers:
        kept.append({**model, "address": {**model["address"], "host": name}})
    for i, entry in enumerate(kept, start=1):
        entry["id"] = i
    return "listed " + json.dumps(kept, separators=(",", ":"))


def expand(
    recorded: Path, out: Path, master: str, template: tuple[str, str], dropped: list[tuple[str, str]], n: int
) -> dict[str, str]:
    """Answers for a master and ``n - 1`` simulated workers, from the master's and the template
    worker's recorded answers; returns the workers' addresses. The workers are named after the
    template (``server07-0001``...), so that lists the tool sorts by name keep their order."""
    workers = {
        f"{template[0]}-{i:04d}": f"10.{100 + i // 62500}.{i // 250 % 250}.{i % 250 + 1}" for i in range(1, n)
    }
    (out / "hosts").mkdir(parents=True, exist_ok=True)
    (out / "unexpected.txt").unlink(missing_ok=True)
    answers = recorded / "hosts"
    rewritten = _rewrite_answer((answers / f"{master}.txt").read_text(), template, dropped, workers)
    (out / "hosts" / f"{master}.txt").write_text(rewritten)
    every_worker = _rewrite_answer((answers / f"{template[0]}.txt").read_text(), template, dropped, workers)
    for worker in workers:  # all alike: the template's answer, the cluster's lists rewritten
        (out / "hosts" / f"{worker}.txt").write_text(every_worker)
    return workers


def _rewrite_answer(
    text: str, template: tuple[str, str], dropped: list[tuple[str, str]], workers: dict[str, str]
) -> str:
    """One recorded answer for the simulated cluster: its files' and services' lines rewritten
    (see :func:`_rewrite_lines`), the master's list of workers as JSON, the release folder's
    digests and sizes of the rewritten files made true again."""
    sections = _sections(text)
    install_dir = dict(sections)["paths"][0]
    changed: dict[str, bytes] = {}
    result = []
    for section, body in sections:  # the files come before the release folder's listing
        if section == "files":
            encoded, changed = _rewrite_files(
                "".join(body), lambda t: _rewrite_lines(t, template, dropped, workers)
            )
            body = [encoded]
        elif section == "services":
            listed = [d for d, _ in dropped]
            body = [
                new
                for line in body
                for new in (
                    [_rewrite_listed(line, template[0], listed, workers)]
                    if line.startswith("listed ")
                    else _rewrite_lines(line + "\n", template, dropped, workers).splitlines()
                )
            ]
        elif section == "install":
            body = _rewrite_install(body, install_dir, changed)
        result.append((section, body))
    return _join(result)


def _patch_pyinfra(connector: type[BaseConnector]) -> None:
    """Every host of this process's inventory goes through ``connector`` (pyinfra finds
    connectors by entry point; this one is the benchmark's, not the tool's)."""
    import pyinfra.api.inventory as inventory

    inventory.get_execution_connectors = lambda: {"ssh": connector}  # type: ignore[assignment]
    inventory.get_all_connectors = lambda: {"ssh": connector}  # type: ignore[assignment]


def main() -> None:
    global STATE, MODE
    mode, folder, _, *argv = sys.argv[1:]
    STATE, MODE = Path(folder), mode
    _patch_pyinfra(Recording if mode == "record" else Simulated)  # type: ignore[type-abstract]
    if Path(argv[0]).name.startswith("python"):
        argv = argv[1:]
    sys.argv = argv
    if Path(argv[0]).name == "pyinfra":
        from pyinfra_cli.main import main as pyinfra_main

        sys.exit(pyinfra_main())
    runpy.run_path(argv[0], run_name="__main__")


if __name__ == "__main__":
    main()
