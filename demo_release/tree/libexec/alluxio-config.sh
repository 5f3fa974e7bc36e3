#!/usr/bin/env bash
#
# Demo stand-in for Alluxio @VERSION@, written for alluxio-reconcile (none of Alluxio's code).
# Sourced by every script in bin/. It behaves as the release's own libexec/alluxio-config.sh
# does from the outside: where the release is, which java, conf/alluxio-env.sh, and the
# options every JVM gets.
#

# The release folder with symlinks resolved: the journal and the logs live in the physical one.
_libexec_dir=$(cd -P -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
_release_dir=$(cd -P -- "${_libexec_dir}/.." && pwd -P)
if [[ -e "${_release_dir}/libexec/alluxio-layout.sh" ]]; then
  . "${_release_dir}/libexec/alluxio-layout.sh"
fi

if [[ -z "${ALLUXIO_SYSTEM_INSTALLATION}" ]]; then
  VERSION=@VERSION@
  ALLUXIO_HOME=${_release_dir}
#%if 1.2.0
  # this release ignores ALLUXIO_CONF_DIR and ALLUXIO_LOGS_DIR from the environment
  ALLUXIO_CONF_DIR=${ALLUXIO_HOME}/conf
  ALLUXIO_LOGS_DIR=${ALLUXIO_HOME}/logs
#%else
  ALLUXIO_CONF_DIR=${ALLUXIO_CONF_DIR:-${ALLUXIO_HOME}/conf}
  ALLUXIO_LOGS_DIR=${ALLUXIO_LOGS_DIR:-${ALLUXIO_HOME}/logs}
#%endif
  ALLUXIO_JARS=${ALLUXIO_HOME}/assembly/target/alluxio-assemblies-${VERSION}-jar-with-dependencies.jar
fi

# JAVA is fixed here, before conf/alluxio-env.sh is read: a JAVA_HOME set there comes too late,
# a JAVA set there wins.
_java_on_path=$(command -v java)
JAVA_HOME=${JAVA_HOME:-"${_java_on_path%/*}/.."}
JAVA=${JAVA:-"${JAVA_HOME}/bin/java"}

if [[ -e "${ALLUXIO_CONF_DIR}/alluxio-env.sh" ]]; then
  . "${ALLUXIO_CONF_DIR}/alluxio-env.sh"
else
  {
    echo "Cannot find ${ALLUXIO_CONF_DIR}/alluxio-env.sh. To proceed, you can"
    echo "(1) create one based on the provided template file ${ALLUXIO_CONF_DIR}/alluxio-env.sh.template, or"
    echo "(2) use a bootstraping tool by running: ${ALLUXIO_HOME}/bin/alluxio bootstrapConf"
  } >&2
  exit 1
fi

if [[ -n "${ALLUXIO_MASTER_ADDRESS}" ]]; then
  echo "ALLUXIO_MASTER_ADDRESS is deprecated since version 1.1 and will be remove in version 2.0."
  echo "Please use \"ALLUXIO_MASTER_HOSTNAME\" instead."
  ALLUXIO_MASTER_HOSTNAME=${ALLUXIO_MASTER_ADDRESS}
fi

# What every JVM is told: the user's ALLUXIO_JAVA_OPTS first, then these (the last -D wins).
ALLUXIO_JAVA_OPTS+=" -Dalluxio.home=${ALLUXIO_HOME}"
ALLUXIO_JAVA_OPTS+=" -Dalluxio.logs.dir=${ALLUXIO_LOGS_DIR}"
[[ -n "${ALLUXIO_RAM_FOLDER}" ]] && ALLUXIO_JAVA_OPTS+=" -Dalluxio.worker.tieredstore.level0.dirs.path=${ALLUXIO_RAM_FOLDER}"
[[ -n "${ALLUXIO_MASTER_HOSTNAME}" ]] && ALLUXIO_JAVA_OPTS+=" -Dalluxio.master.hostname=${ALLUXIO_MASTER_HOSTNAME}"
[[ -n "${ALLUXIO_UNDERFS_ADDRESS}" ]] && ALLUXIO_JAVA_OPTS+=" -Dalluxio.underfs.address=${ALLUXIO_UNDERFS_ADDRESS}"
[[ -n "${ALLUXIO_WORKER_MEMORY_SIZE}" ]] && ALLUXIO_JAVA_OPTS+=" -Dalluxio.worker.memory.size=${ALLUXIO_WORKER_MEMORY_SIZE}"
ALLUXIO_JAVA_OPTS+=" -Dlog4j.configuration=file:${ALLUXIO_CONF_DIR}/log4j.properties"
ALLUXIO_JAVA_OPTS+=" -Dorg.apache.jasper.compiler.disablejsr199=true"
ALLUXIO_JAVA_OPTS+=" -Djava.net.preferIPv4Stack=true"
#%if 1.2.0
ALLUXIO_JAVA_OPTS+=" -Djava.security.krb5.realm= -Djava.security.krb5.kdc="
#%endif

# Each role's own options come first and are glued on without a space, as in the release.
ALLUXIO_MASTER_JAVA_OPTS+=${ALLUXIO_JAVA_OPTS}
ALLUXIO_MASTER_JAVA_OPTS+=" -Dalluxio.logger.type=MASTER_LOGGER"
ALLUXIO_WORKER_JAVA_OPTS+=${ALLUXIO_JAVA_OPTS}
ALLUXIO_WORKER_JAVA_OPTS+=" -Dalluxio.logger.type=WORKER_LOGGER"
ALLUXIO_USER_JAVA_OPTS+=${ALLUXIO_JAVA_OPTS}
ALLUXIO_USER_JAVA_OPTS+=" -Dalluxio.logger.type=USER_LOGGER"

# conf/ on the classpath is how conf/alluxio-site.properties is found.
if [[ -n "${ALLUXIO_PREPEND_ALLUXIO_CLASSES}" ]]; then
  export CLASSPATH="${ALLUXIO_CONF_DIR}/:${ALLUXIO_JARS}:${ALLUXIO_CLASSPATH}"
else
  export CLASSPATH="${ALLUXIO_CONF_DIR}/:${ALLUXIO_CLASSPATH}:${ALLUXIO_JARS}"
fi
