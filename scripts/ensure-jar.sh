# Sourced by ./jvmm and ./lab (the one place that decides when to build the CLI):
#   jvmm_ensure_jar REPO
# builds REPO/cli/target/jvmm.jar with Maven when it is missing or older than a pom.xml or a main
# source, so everything that runs jvmm from the checkout runs the current code, on a fresh clone too.
# Sets JAVA_HOME through scripts/jdk.sh (a JRE is enough while the jar is current; building needs a
# JDK). Returns non-zero after one line on stderr saying what failed; Maven's output goes to stderr.

jvmm_jar_stale() { # REPO: true when the jar is missing or a build input is newer than it
  local jar=$1/cli/target/jvmm.jar
  [ ! -f "$jar" ] && return 0
  [ -n "$(find "$1/pom.xml" "$1"/*/pom.xml "$1"/*/src/main -newer "$jar" -type f -print -quit 2>/dev/null)" ]
}

jvmm_ensure_jar() {
  local repo=$1 jar=$1/cli/target/jvmm.jar lock rc=0
  if ! jvmm_jar_stale "$repo"; then
    JVMM_JRE_OK=1 . "$repo/scripts/jdk.sh"
    return 0
  fi
  . "$repo/scripts/jdk.sh"   # a JDK, not only a JRE: exits with one line when there is none
  mkdir -p "$repo/target"
  exec {lock}>"$repo/target/.jar-build.lock"
  flock "$lock"   # two commands started together in one checkout build once, not over each other
  if jvmm_jar_stale "$repo"; then
    # -DskipTests, not -Dmaven.test.skip: vmm-core and cli depend on kvm-bindings' test-jar, which
    # Maven can only take from this reactor (a clean repository has none) if the tests are compiled
    echo "jvmm: building $jar (mvn -q -DskipTests package; a first build also downloads Maven artefacts)..." >&2
    (cd "$repo" && mvn -q -B -ntp -DskipTests package >&2) || rc=$?
  fi
  exec {lock}>&-
  if [ "$rc" != 0 ]; then
    echo "jvmm: building $jar failed (mvn exit status $rc, its errors above)" >&2
    return 1
  fi
}
