#!/bin/sh
# The tarball chain's relay: what each node runs, sent by runtime/fanout.py (comment lines
# are stripped before it is sent). See fanout.py's notes on trust.
#
# It runs as `sh -c "$(echo R | base64 -d)" relay CFG I [STEP KH]`: CFG the chain's settings
# (base64 shell: N, H0..HN, PART, INSTALL, SSH_OPTIONS, K, SOCK, TAG, AK, SRC, h), I this node's
# place, STEP what to do; in a forced command the step is the one the client asked for
# ($SSH_ORIGINAL_COMMAND) and only "link" and "stream" are accepted.
# - link, asked by the master: log in to node I+1 with the hop key read from stdin (its host key
#   checked against KH, base64 known_hosts lines from the master's), keep the connection at SOCK.
# - link, forced: this hop's key has been used; remove its line (TAG-I) and say "linked".
# - send, asked by the master on a holder (node 0): stream SRC to node 1 over the link.
# - stream: what arrives is written to a file of its own beside PART ($part) while it streams on
#   to node I+1 over the link; then INSTALL hashes that file, and renames it only if it is the
#   declared tarball. One line per node goes back: "ok NAME", "bad NAME
#   why", or "lost NEXT why" when NEXT was not reached.
# K and SSH_OPTIONS are option lists, split on purpose; PART and the others come from CFG (eval)
# shellcheck disable=SC2086,SC2153
C=$1 I=$2 STEP=${SSH_ORIGINAL_COMMAND-${3:-}}
eval "$(echo "$C" | base64 -d)"
eval "ME=\$H$I"
J=$((I + 1)); eval "NEXT=\${H$J:-}"
if [ -n "${SSH_ORIGINAL_COMMAND+set}" ] && [ "$STEP" != link ] && [ "$STEP" != stream ]; then
  echo "bad $ME refused to run: $STEP"; exit 1
fi
T=$(mktemp -d) || { echo "bad $ME no temporary folder"; exit 1; }
trap 'rm -rf "$T"' EXIT
ONWARD="ssh $K $SSH_OPTIONS -o UserKnownHostsFile=/dev/null -o ControlPath=$SOCK $NEXT"
case $STEP in
link)
  if [ -n "${SSH_ORIGINAL_COMMAND+set}" ]; then sed -i "/ $TAG-$I\$/d" "$AK" && echo linked; exit; fi
  (umask 077 && cat > "$T/key") && echo "$4" | base64 -d > "$T/k" || exit 1
  if ! ssh -o ControlPersist=300 -V > /dev/null 2>&1; then  # OpenSSH 5.6+
    echo "lost $NEXT $ME's OpenSSH cannot keep a link open (ControlPersist: OpenSSH 5.6)"; exit
  fi
  ssh $K $SSH_OPTIONS -i "$T/key" -o IdentitiesOnly=yes -o UserKnownHostsFile="$T/k" -o ControlMaster=yes \
    -o ControlPath="$SOCK" -o ControlPersist=300 "$NEXT" link < /dev/null > "$T/o" 2> "$T/e"
  grep -q '^linked' "$T/o" && echo "linked $NEXT" || echo "lost $NEXT $(tr '\n' ' ' < "$T/e" | cut -c1-300)"
  exit ;;
send)
  if [ ! -S "$SOCK" ]; then echo "lost $NEXT $ME has no link to it"; exit; fi
  $ONWARD stream < "$SRC" 2> "$T/e" || echo "lost $NEXT $(tr '\n' ' ' < "$T/e" | cut -c1-300)"
  ssh -o ControlPath="$SOCK" -O exit "$NEXT" > /dev/null 2>&1
  echo "sent $ME"; exit ;;
stream) ;;
*) echo "bad $ME unknown step: $STEP"; exit 1 ;;
esac
if ! mkdir -p "${PART%/*}" || ! part=$(mktemp "$PART.XXXXXX"); then
  echo "bad $ME cannot write ${PART%/*}"; exit 1
fi
# tee -p (coreutils 8.24): a next hop that goes away does not stop this node's own copy; older
# tees do the same once SIGPIPE is ignored (they drop an output that fails and go on)
P=-p; tee -p < /dev/null > /dev/null 2>&1 || { P=; trap '' PIPE; }
if [ -n "$NEXT" ] && [ ! -S "$SOCK" ]; then
  echo "lost $NEXT $ME has no link to it"; cat > "$part" 2> "$T/t"
elif [ -n "$NEXT" ]; then
  tee $P "$part" 2> "$T/t" | $ONWARD stream 2> "$T/e" ||
    echo "lost $NEXT $(tr '\n' ' ' < "$T/e" | cut -c1-300)"
  ssh -o ControlPath="$SOCK" -O exit "$NEXT" > /dev/null 2>&1
else
  cat > "$part" 2> "$T/t"
fi
if (eval "$INSTALL") 2> "$T/i"; then echo "ok $ME"
else rm -f "$part"; echo "bad $ME $(cat "$T/i" "$T/t" | tr '\n' ' ' | cut -c1-300)"; fi
