#!/bin/sh
# placeholder: replaced by the launch branch
# Runs jvmm from JVMM_JAR with JAVA (or JAVA_HOME's java, or java on PATH) and JVMM_JAVA_OPTS.
# JVMM_AOT_DIR (the AOT cache directory) is accepted and not used yet.
java=${JAVA:-${JAVA_HOME:+$JAVA_HOME/bin/java}}
# shellcheck disable=SC2086 # JVMM_JAVA_OPTS is a list of JVM flags
exec "${java:-java}" ${JVMM_JAVA_OPTS:-} -jar "$JVMM_JAR" "$@"
