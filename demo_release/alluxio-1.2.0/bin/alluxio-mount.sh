#!/usr/bin/env bash
# Demo stand-in for Alluxio 1.2.0 (written for this project).
# Mounts (or unmounts) the worker's RAM folder, as root (Mount) or through sudo (SudoMount).

usage="Usage: alluxio-mount.sh [Mount|SudoMount|Umount|SudoUmount]"
BIN=$(cd -- "$(dirname -- "$0")" && pwd)
. "${BIN}/../libexec/alluxio-config.sh"

mount_ramfs() {
  local sudo=$1
  echo "Formatting RamFS: ${ALLUXIO_RAM_FOLDER} (${ALLUXIO_WORKER_MEMORY_SIZE})"
  # every step goes through sudo when asked to, so a sudo that refuses stops the mount
  ${sudo} mkdir -p -- "${ALLUXIO_RAM_FOLDER}" || return 1
  if mountpoint -q -- "${ALLUXIO_RAM_FOLDER}"; then
    ${sudo} umount -l -- "${ALLUXIO_RAM_FOLDER}" || return 1
  fi
  ${sudo} mount -t ramfs -o "size=${ALLUXIO_WORKER_MEMORY_SIZE}" ramfs "${ALLUXIO_RAM_FOLDER}" || return 1
  ${sudo} chmod a+w -- "${ALLUXIO_RAM_FOLDER}"
}

umount_ramfs() {
  local sudo=$1
  if mountpoint -q -- "${ALLUXIO_RAM_FOLDER}"; then
    ${sudo} umount -l -- "${ALLUXIO_RAM_FOLDER}"
  fi
}

case "$1" in
  Mount) mount_ramfs "" ;;
  SudoMount) mount_ramfs "sudo" ;;
  Umount) umount_ramfs "" ;;
  SudoUmount) umount_ramfs "sudo" ;;
  *) echo "${usage}" >&2; exit 1 ;;
esac
