#!/usr/bin/env bash
# Installs hnet-java's libraries into the local Maven repository, then builds and runs a project
# outside the build (examples/consumer, copied to a temporary folder) against them, as a user's
# project would: it proves the installed POMs are complete and clean.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
. "$root/scripts/jdk25.sh"
hnet_find_jdk25
cd "$root"
mvn -q -B -ntp install -DskipTests -Dspotless.check.skip=true
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp -r examples/consumer/. "$work/"
cd "$work"
mvn -q -B -ntp package dependency:copy-dependencies -DincludeScope=runtime
# what a consumer needs on its command line: the Vector API module
java --add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
  -cp "target/classes:target/dependency/*" example.Main \
  "$root/hnet-core/src/test/resources/golden/2stage" 2>&1 | grep -v 'Using incubator modules'
# nothing of the build's tests or benchmarks leaks into a user's class path
if ls target/dependency | grep -E '^(junit|jmh|hnet-bench|hnet-cli|picocli|openai|xchart)'; then
  echo "consumer-check: unexpected jars in a consumer's dependencies" >&2
  exit 1
fi
echo "consumer-check: ok ($(ls target/dependency | wc -l) jars)"
