"""The post's own procedure, as the shell steps it gives, run in the lab: the baseline the
benchmark compares the tool with, and the proof that the demo release reproduces #3891."""

from __future__ import annotations

import subprocess
from pathlib import Path

from lab import Lab

NO_PROMPT = "-o StrictHostKeyChecking=no -o BatchMode=yes"  # the post answers "yes" and types passwords


def _ssh(lab: Lab, host: str, command: str) -> str:
    done = lab.run(["ssh", "-o", "BatchMode=yes", host, command], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"ssh {host} {command!r} failed: {done.stderr}")
    return done.stdout


def post_by_hand(
    lab: Lab, tarball: Path, master: str, workers: list[str], patch: bool = True, version: str = "1.2.0"
) -> str:
    """Steps 2 to 8 of the post on bare lab hosts, driven from the control namespace the way an
    operator at the master would type them; returns the master's ``logs/task.log``."""
    release = f"alluxio-{version}"
    others = [w for w in workers if w != master]
    entries = "\n".join(f"{ip} {name}" for name, ip in sorted(lab.hosts().items()))
    # The tarball is on the master (the post starts from a single-node install there).
    subprocess.run(lab.run_argv(["scp", "-q", str(tarball), f"{master}:/opt/"]), check=True)
    # 3. pushssh.sh: the master's key pair, its public key appended on every worker.
    _ssh(lab, master, "ssh-keygen -q -t rsa -N '' -f /root/.ssh/id_rsa")
    public = _ssh(lab, master, "cat /root/.ssh/id_rsa.pub").strip()
    for worker in workers:
        _ssh(lab, worker, f"echo '{public}' >> /root/.ssh/authorized_keys")
    # 2. /etc/hosts on the master, then scp'd to every worker (overwriting theirs, as the post warns).
    _ssh(lab, master, f"cat >> /etc/hosts <<'EOF'\n{entries}\nEOF")
    for worker in others:
        _ssh(lab, master, f"scp -q {NO_PROMPT} /etc/hosts {worker}:/etc/")
    # 4. scp the tarball to each worker, extract, chown.
    extract = f"cd /opt && tar -zxf {tarball.name} && chown -R root:root {release}"
    for worker in others:
        _ssh(
            lab,
            master,
            f"scp -q {NO_PROMPT} /opt/{tarball.name} {worker}:/opt/ && ssh {NO_PROMPT} {worker} '{extract}'",
        )
    _ssh(lab, master, extract)
    # 5-8. conf/workers, alluxio-env.sh, copyDir, the launcher patch, format, start.
    steps = [
        f"cd /opt/{release}",
        "printf '%s\\n' " + " ".join(workers) + " > conf/workers",
        "cp conf/alluxio-env.sh.template conf/alluxio-env.sh",
        f"echo ALLUXIO_MASTER_HOSTNAME={master} >> conf/alluxio-env.sh",
        "echo ALLUXIO_UNDERFS_ADDRESS=hdfs://server03:8020/alluxio >> conf/alluxio-env.sh",
    ]
    if patch:
        steps.append("sed -i 's/-t ${worker}/-tt ${worker}/' bin/alluxio-workers.sh")
    steps += [
        "bin/alluxio copyDir conf",
        "bin/alluxio copyDir bin",
        "bin/alluxio format",
        "bin/alluxio-start.sh all",
    ]
    _ssh(lab, master, " && ".join(steps))
    return _ssh(lab, master, f"cat /opt/{release}/logs/task.log")
