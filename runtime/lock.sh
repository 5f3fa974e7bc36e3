#!/bin/sh
# The converge lock on the master: a folder made atomically by mkdir, its owner in a file.
#   lock.sh acquire LOCK OWNER TAKE_OVER EXPIRES_MINUTES   prints: acquired | held OWNER | error MESSAGE
#   lock.sh release LOCK OWNER
# TAKE_OVER (may be empty): a lock still held by exactly that owner is removed first. A lock
# older than EXPIRES_MINUTES is removed (its holder is long gone).
action=$1 lock=$2 owner=$3
case $action in
acquire)
	take_over=$4 expires=$5
	err=$(mkdir -p "${lock%/*}" 2>&1) || { echo "error $err"; exit 0; }
	if [ -n "$take_over" ] && [ "$(cat "$lock/owner" 2>/dev/null)" = "$take_over" ]; then rm -rf "$lock"; fi
	if [ -n "$(find "$lock" -maxdepth 0 -mmin "+$expires" 2>/dev/null)" ]; then rm -rf "$lock"; fi
	if err=$(mkdir "$lock" 2>&1); then
		# the owner's line goes to the file, a failure's message to $err
		if err=$({ printf '%s\n' "$owner" >"$lock/owner"; } 2>&1); then echo acquired; else rm -rf "$lock"; echo "error $err"; fi
	elif [ -d "$lock" ]; then
		echo "held $(cat "$lock/owner" 2>/dev/null || echo unknown)"
	else
		echo "error $err"
	fi
	;;
release)
	if [ "$(cat "$lock/owner" 2>/dev/null)" = "$owner" ]; then rm -rf "$lock"; fi
	;;
esac
