#!/bin/sh
# A floor userland for a lab host (python -m lab floor HOST FLOOR): installed under the name of
# each program it stands for, first on root's PATH. It logs every call, refuses what the floor's
# version of the program lacks with that version's own message and exit status, and runs the
# real program otherwise (a refusal is logged too, as "refused PROGRAM ARGS"). FLOOR (centos6, centos7) is in the file "floor" beside this folder.
# The versions and messages: the README's "Supported node userlands" table.
prog=${0##*/}
dir=$(dirname "$0")
floor=$(cat "$dir/../floor")
args=$*
printf '%s\n' "$prog $args" >> "$dir/../calls"
refuse() {  # STATUS MESSAGE-LINE...
  printf 'refused %s\n' "$prog $args" >> "$dir/../calls"
  status=$1
  shift
  printf '%s\n' "$@" >&2
  exit "$status"
}
# The value of every -o KEY=VALUE (or -oKEY=VALUE) option, one per line.
options() {
  take=
  for a in "$@"; do
    if [ -n "$take" ]; then printf '%s\n' "$a"; take=
    elif [ "$a" = -o ]; then take=1
    else case $a in -o?*) printf '%s\n' "${a#-o}" ;; esac
    fi
  done
}
case $prog in
tee)  # --output-error / -p: coreutils 8.24
  for a in "$@"; do
    case $a in
      -p|--output-error*) refuse 1 "tee: invalid option -- 'p'" "Try \`tee --help' for more information." ;;
    esac
  done ;;
sha256sum)  # --strict: coreutils 8.13
  if [ "$floor" = centos6 ]; then
    for a in "$@"; do
      [ "$a" = --strict ] && refuse 1 "sha256sum: unrecognized option '--strict'" "Try \`sha256sum --help' for more information."
    done
  fi ;;
ssh-keygen)  # ed25519 keys: OpenSSH 6.5
  if [ "$floor" = centos6 ]; then
    prev=
    for a in "$@"; do
      [ "$prev" = -t ] && [ "$a" = ed25519 ] && refuse 1 "unknown key type ed25519"
      prev=$a
    done
  fi ;;
ssh|scp)
  if [ "$floor" = centos6 ] && [ "$prog" = ssh ]; then  # -G: 6.8; -Q: 6.3
    for a in "$@"; do
      case $a in
        -G|-Q) refuse 255 "ssh: invalid option -- '${a#-}'" "usage: ssh [-1246AaCfgKkMNnqsTtVvXxYy] [-b bind_address] [-c cipher_spec]" ;;
      esac
    done
  fi
  for o in $(options "$@"); do
    key=${o%%=*}
    value=${o#*=}
    case $floor:$key in
      centos6:ControlPersist|centos6:KexAlgorithms)  # OpenSSH 5.6 and 5.7
        refuse 255 "command-line: line 0: Bad configuration option: $key" ;;
      centos7:KexAlgorithms)  # "^" before a list: OpenSSH 8.1
        case $value in
          ^*) refuse 255 "Unsupported KEX algorithm \"$value\"" "command-line line 0: Bad SSH2 KexAlgorithms '$value'." ;;
        esac ;;
    esac
  done ;;
esac
exec "/usr/bin/$prog" "$@"
