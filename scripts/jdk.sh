# Sourced by ./jvmm, ./run-tests and ./lab: sets JAVA_HOME to a JDK 22+ without the user exporting anything.
# Order: an already-set JAVA_HOME that is new enough, then the newest JDK under /usr/lib/jvm, then java on PATH.
jvmm_java_feature() { # prints the feature release of the java at $1 (e.g. 25), or nothing
  "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p' | head -n1
}
jvmm_find_jdk() {
  local cand v best="" bestv=0
  for cand in ${JAVA_HOME:+"$JAVA_HOME"} /usr/lib/jvm/* /usr/local/lib/jvm/* /opt/java/* \
              "$(dirname "$(dirname "$(readlink -f "$(command -v java 2>/dev/null || echo /nonexistent)")")")"; do
    [ -x "$cand/bin/java" ] || continue
    [ -x "$cand/bin/javac" ] || [ -n "${JVMM_JRE_OK:-}" ] || continue
    v=$(jvmm_java_feature "$cand/bin/java")
    [ -n "$v" ] || continue
    if [ "$v" -ge 22 ] && [ "$v" -gt "$bestv" ]; then best=$cand; bestv=$v; fi
  done
  [ -n "$best" ] || return 1
  printf '%s\n' "$best"
}
if ! JAVA_HOME=$(jvmm_find_jdk); then
  echo "jvmm: no JDK 22 or newer found (looked at \$JAVA_HOME, /usr/lib/jvm/*, java on PATH); install one, e.g. a JDK 25" >&2
  exit 1
fi
export JAVA_HOME
export PATH="$JAVA_HOME/bin:$PATH"
# Maven 3.8's bundled guava touches sun.misc.Unsafe; JDK 24+ warns about it on every build unless allowed.
if [ "$(jvmm_java_feature "$JAVA_HOME/bin/java")" -ge 24 ]; then
  case " ${MAVEN_OPTS:-} " in *sun-misc-unsafe-memory-access*) ;; *)
    export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow" ;;
  esac
fi
