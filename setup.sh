#!/usr/bin/env bash
# Install everything the project needs on a Debian machine, as root: the lab's Debian packages
# and a virtual environment (.venv) with the project's Python dependencies.
set -euo pipefail
cd "$(dirname "$0")"
if [[ $(id -u) -ne 0 ]]; then echo "setup.sh: run as root (apt-get, namespaces)" >&2; exit 1; fi
# openssh-server: each lab host's sshd; rsync: Alluxio's copyDir; sudo: SudoMount; curl: the demo's
# hints; shellcheck: the suite checks our shell scripts;
# a JDK: javac builds the demo release's stand-in jar, and java runs its daemons (the release's
# scripts launch `${JAVA} -cp ... alluxio.master.AlluxioMaster` like the real ones);
# zookeeper: the lab's real ZooKeeper server for fault-tolerant masters; libcurator-recipes-java:
# Curator and ZooKeeper's client, bundled in the demo's assembly jar as the real release does.
PACKAGES=(openssh-server openssh-client iproute2 rsync sudo procps util-linux python3-venv curl
          shellcheck
          openjdk-17-jdk-headless
          zookeeper libcurator-recipes-java)
missing=()
for p in "${PACKAGES[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if ((${#missing[@]})); then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
[[ -x .venv/bin/python ]] || python3 -m venv .venv
.venv/bin/pip install -q --disable-pip-version-check -e '.[test,bench]'
