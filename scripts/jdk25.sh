# Sourced by ./hnet and .ci/run: sets JAVA_HOME to a JDK 25 or newer, or explains that there is none.
# Looks at JAVA_HOME first, then the usual JDK folders. No network access, nothing installed.

hnet_java_major() { # prints the feature version of the JDK at $1, or nothing
  local rel="$1/release" v
  [ -x "$1/bin/java" ] && [ -x "$1/bin/javac" ] || return 0
  if [ -f "$rel" ]; then
    v=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$rel")
  else
    v=$("$1/bin/java" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n 1)
  fi
  echo "$v"
}

hnet_find_jdk25() {
  local c v
  for c in "${JAVA_HOME:-}" /usr/lib/jvm/* /opt/java/* /opt/jdk* /usr/local/jdk* /usr/java/* \
           "$HOME"/.sdkman/candidates/java/* /Library/Java/JavaVirtualMachines/*/Contents/Home; do
    [ -n "$c" ] && [ -d "$c" ] || continue
    v=$(hnet_java_major "$c")
    if [ -n "$v" ] && [ "$v" -ge 25 ] 2>/dev/null; then
      export JAVA_HOME="$c"
      export PATH="$JAVA_HOME/bin:$PATH"
      return 0
    fi
  done
  echo "hnet: no JDK 25 found (looked at JAVA_HOME and /usr/lib/jvm, /opt/java, ~/.sdkman, ...)." >&2
  echo "hnet: install a JDK 25 (for example Temurin 25) and set JAVA_HOME to it." >&2
  return 1
}
