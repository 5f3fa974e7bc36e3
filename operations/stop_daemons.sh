#!/bin/sh
# Stop this node's Alluxio daemons with the release's own alluxio-stop.sh of the folder each
# runs from, one component at a time; then those the script could not stop (a missing
# configuration makes it refuse) by PID, each checked to still be an Alluxio JVM, with SIGKILL
# after 30 s as the release's killAll does.
#   stop_daemons.sh "PID ..." [STOP_SCRIPT COMPONENT]...
pids=$1
shift
# A stopped JVM (SIGSTOP: a debugger, a cgroup freezer) handles no SIGTERM until it runs again:
# the release's killAll would wait 30 s for it, then kill -9.
# shellcheck disable=SC2086
[ -n "$pids" ] && kill -CONT $pids 2>/dev/null
while [ $# -ge 2 ]; do
	if [ -x "$1" ]; then "$1" "$2"; fi
	shift 2
done
alive() {
	left=
	for p in $pids; do
		if grep -qa alluxio "/proc/$p/cmdline" 2>/dev/null; then left="$left $p"; fi
	done
}
alive
[ -z "$left" ] && exit 0
echo "stopping by PID:$left" >&2
# shellcheck disable=SC2086
kill $left 2>/dev/null
i=0
while [ "$i" -lt 30 ]; do
	alive
	[ -z "$left" ] && exit 0
	sleep 1
	i=$((i + 1))
done
# shellcheck disable=SC2086
kill -9 $left 2>/dev/null
true
