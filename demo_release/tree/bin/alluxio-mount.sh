#!/usr/bin/env bash
#
# Demo stand-in for Alluxio @VERSION@, written for alluxio-reconcile (none of Alluxio's code).
# Mounts the worker's RAM folder (a ramfs), here or on every host of conf/workers, through
# sudo under SudoMount, as the release's bin/alluxio-mount.sh does from the outside.
#

LAUNCHER=
# under `bash -x`, the scripts this one calls are traced too
if [[ "$-" == *x* ]]; then
  LAUNCHER="bash -x"
fi
BIN=$(cd "$(dirname "$0")"; pwd)

USAGE="Usage: alluxio-mount.sh [Mount|SudoMount] [MACHINE]
\nIf omitted, MACHINE is this host. MACHINE is one of:
  local\t\t\tMount the RAM folder on this host
  workers\t\tMount the RAM folder on every host of conf/workers"

# Runs as root under SudoMount: everything it needs is defined inside, and the configuration
# is read again there (sudo drops the caller's environment).
mount_ramfs_linux() {
  . "${BIN}/../libexec/alluxio-config.sh"
  local size bytes total
  if [[ -z "${ALLUXIO_WORKER_MEMORY_SIZE}" ]]; then
    echo "ALLUXIO_WORKER_MEMORY_SIZE was not set. Using the default one: 1GB"
    ALLUXIO_WORKER_MEMORY_SIZE=1GB
  fi
  if [[ -z "${ALLUXIO_RAM_FOLDER}" ]]; then
    echo "ALLUXIO_RAM_FOLDER was not set. Using the default one: /mnt/ramdisk"
    ALLUXIO_RAM_FOLDER=/mnt/ramdisk
  fi
  size=${ALLUXIO_WORKER_MEMORY_SIZE,,}
  if [[ ! "${size}" =~ ^([0-9]+)(b|k|kb|m|mb|g|gb|t|tb)?$ ]]; then
    echo "Please specify ALLUXIO_WORKER_MEMORY_SIZE in a correct form." >&2
    exit 1
  fi
  bytes=${BASH_REMATCH[1]}
  case "${BASH_REMATCH[2]}" in
    k|kb) bytes=$((bytes * 1024)) ;;
    m|mb) bytes=$((bytes * 1024 * 1024)) ;;
    g|gb) bytes=$((bytes * 1024 * 1024 * 1024)) ;;
    t|tb) bytes=$((bytes * 1024 * 1024 * 1024 * 1024)) ;;
  esac
  total=$(($(awk '/^MemTotal:/ { print $2 }' /proc/meminfo) * 1024))
  if [[ ${total} -lt ${bytes} ]]; then
    echo "ERROR: Memory(${total}) is less than requested ramdisk size(${bytes}). Please" >&2
    echo "    reduce ALLUXIO_WORKER_MEMORY_SIZE" >&2
    exit 1
  fi
  echo "Formatting RamFS: ${ALLUXIO_RAM_FOLDER} (${size})"
  if mount | grep "${ALLUXIO_RAM_FOLDER}" > /dev/null; then
    if ! umount -f "${ALLUXIO_RAM_FOLDER}"; then
      echo "ERROR: umount RamFS ${ALLUXIO_RAM_FOLDER} failed" >&2
      exit 1
    fi
  else
    mkdir -p "${ALLUXIO_RAM_FOLDER}"
  fi
  # the status is chmod's: a failed mount alone goes unreported, as in the release
  mount -t ramfs -o "size=${size}" ramfs "${ALLUXIO_RAM_FOLDER}"
  chmod a+w "${ALLUXIO_RAM_FOLDER}"
}

mount_here() {
  if [[ "$1" == SudoMount ]]; then
#%if 1.2.0
    sudo bash -O extglob -c "BIN=${BIN}; $(declare -f mount_ramfs_linux); mount_ramfs_linux"
#%else
    sudo bash -O extglob -c "BIN=${BIN}; ALLUXIO_CONF_DIR=${ALLUXIO_CONF_DIR}; \
$(declare -f mount_ramfs_linux); mount_ramfs_linux"
#%endif
  else
    mount_ramfs_linux
  fi
}

case "$1" in
  Mount|SudoMount) ;;
  *)
    echo -e "${USAGE}" >&2
    exit 1
    ;;
esac

case "$2" in
  ""|local)
#%if 1.3.0
    # the caller's configuration folder, handed on to the root shell
    . "${BIN}/../libexec/alluxio-config.sh"
#%endif
    mount_here "$1"
    ;;
  workers)
    ${LAUNCHER} "${BIN}/alluxio-workers.sh" "${BIN}/alluxio-mount.sh" "$1"
    ;;
esac
