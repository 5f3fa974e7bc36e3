#!/bin/sh
# The tarball chain's relay: what each node runs, sent by runtime/fanout.py (comment lines
# are stripped before it is sent). See fanout.py's notes on trust.
#
# It runs as `sh -c "$(echo R | base64 -d)" relay CFG I [STEP KH]`: CFG the chain's settings
# (base64 shell: N, H0..HN, PART, INSTALL, X, UNPACK, UNPACKED, SSH_OPTIONS, K, SOCK, TAG, AK,
# SRC, sha), I this node's place, STEP what to do; in a forced command the step is the one the
# client asked for ($SSH_ORIGINAL_COMMAND) and only "link" and "stream" are accepted.
# - link, asked by the master: log in to node I+1 with the hop key read from stdin (its host key
#   checked against KH, base64 known_hosts lines from the master's), keep the connection at SOCK.
# - link, forced: this hop's key has been used; remove its line (TAG-I) and say "linked".
# - send, asked by the master on a holder (node 0): stream SRC to node 1 over the link.
# - stream: what arrives is written to a file of its own beside PART ($part) and hashed ($sha,
#   reading tee's output) while it streams on to node I+1 over the link; a node listed in X
#   also unpacks that file as it grows (UNPACK). Then INSTALL renames the file into place only
#   if its hash ($got) and size are the declared tarball's, and only then is the unpacked folder
#   kept (UNPACKED). One line per node goes back: "ok NAME", "bad NAME why", or "lost NEXT why"
#   when NEXT was not reached; a node's own line comes after those of the nodes after it.
# K and SSH_OPTIONS are option lists, split on purpose; PART, sha and the others come from CFG
# (eval); got and kept are read by INSTALL and UNPACKED (eval)
# shellcheck disable=SC2086,SC2153,SC2154,SC2034
C=$1 I=$2 STEP=${SSH_ORIGINAL_COMMAND-${3:-}}
eval "$(echo "$C" | base64 -d)"
eval "ME=\$H$I"
J=$((I + 1)); eval "NEXT=\${H$J:-}"
if [ -n "${SSH_ORIGINAL_COMMAND+set}" ] && [ "$STEP" != link ] && [ "$STEP" != stream ]; then
  echo "bad $ME refused to run: $STEP"; exit 1
fi
T=$(mktemp -d) || { echo "bad $ME no temporary folder"; exit 1; }
u=
trap 'rm -rf "$T" ${u:+"$u"}' EXIT
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
o=
if [ -n "$NEXT" ] && [ ! -S "$SOCK" ]; then
  echo "lost $NEXT $ME has no link to it"
elif [ -n "$NEXT" ]; then
  # the next hop reads a pipe that tee writes (its open waits for tee's)
  if ! mkfifo "$T/o"; then rm -f "$part"; echo "bad $ME cannot make a pipe in $T"; exit 1; fi
  $ONWARD stream < "$T/o" 2> "$T/e" & o=$!
fi
exec 3<&0
# what arrives is hashed as it arrives; $w ends once tee has written the whole copy
tee $P "$part" ${o:+"$T/o"} <&3 2> "$T/t" | $sha > "$T/sum" 2> /dev/null & w=$!
exec 3<&-
x=; case " $X " in *" $I "*) eval "$UNPACK" ;; esac
wait $w
# a tee that never opened the next hop's pipe leaves that hop's open waiting: a writer that
# comes and goes ends it (a pipe opened for reading and writing never waits)
[ -z "$o" ] || { exec 4<> "$T/o"; exec 4>&-; }
got=$(cut -c1-64 < "$T/sum")
kept=
if (eval "$INSTALL") 2> "$T/i"; then kept=1; r="ok $ME"
else rm -f "$part"; r="bad $ME $(cat "$T/i" "$T/t" | tr '\n' ' ' | cut -c1-300)"; fi
eval "$UNPACKED"
if [ -n "$o" ]; then
  wait $o || echo "lost $NEXT $(tr '\n' ' ' < "$T/e" | cut -c1-300)"
  ssh -o ControlPath="$SOCK" -O exit "$NEXT" > /dev/null 2>&1
fi
echo "$r"
