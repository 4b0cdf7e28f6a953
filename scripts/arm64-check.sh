#!/usr/bin/env bash
# Proves that hubnlu runs on arm64 (aarch64): a representative part of the test suite (models, store, agent end to
# end over the embedded aedes broker and over mosquitto) runs on an arm64 Node.js from Debian under qemu-user, with
# onnxruntime-node's own arm64 binary and better-sqlite3 cross-compiled for arm64. Timings under emulation mean
# nothing; correctness does.
#
#   npm run check:arm64            (as root the first time: it installs qemu-user-static and the cross compiler)
#
# Everything happens in a copy ($ARM64_CHECK_DIR, default /tmp/arm64-check), so the x86 node_modules is untouched:
#   sysroot/   Debian arm64 packages (nodejs and what it needs) unpacked with dpkg-deb -x; nothing is installed
#              into the host's dpkg, so no multiarch version clashes with the host's libc
#   apt/       a private apt state for that (arm64 only, suite $ARM64_DEBIAN_SUITE)
#   repo/      the repository: sources, the x86-built dist/ (plain JavaScript), node_modules hard-linked from the
#              worktree except better-sqlite3, which is copied and rebuilt for arm64
#
# Why Debian trixie: the project needs Node >= 20; Debian 12 (bookworm) ships nodejs 18.19 (`apt-cache policy
# nodejs:arm64` on a bookworm host with arm64 added says so, and this script prints it), Debian 13 (trixie) ships 20.19.
#
# Why not `npm test` under emulation: without binfmt_misc (not mounted in containers, and registering a handler
# changes the host kernel for everyone) an emulated node cannot start another emulated node, and node --test runs
# each file in a child node. So each test file runs directly (`node file.test.js` runs its tests in-process), and
# only files that start no node child process are chosen. Brokers (mosquitto) are host binaries and start fine.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
WORK=${ARM64_CHECK_DIR:-/tmp/arm64-check}
SUITE=${ARM64_DEBIAN_SUITE:-trixie}
MIRROR=${ARM64_DEBIAN_MIRROR:-http://deb.debian.org/debian}
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
NICE=(nice -n 10)
SYSROOT=$WORK/sysroot
COPY=$WORK/repo
APTDIR=$WORK/apt
export DEBIAN_FRONTEND=noninteractive

say() { printf '\n== %s\n' "$*"; }
die() { printf 'arm64-check: %s\n' "$*" >&2; exit 1; }

# The test files that run under emulation (none starts a node child process). agent.e2e.test.js is not among them:
# its 5-second answers and 1-second latency bound do not hold under emulation (correctness.e2e.test.js checks the
# same answers with long deadlines).
TESTS=(
  dist/test/model/shipped.test.js
  dist/test/model/slot-tagger.test.js
  dist/test/store/database.test.js
  dist/test/store/log-store.test.js
  dist/test/agent/correctness.e2e.test.js
  dist/test/extensions/hermes.e2e.test.js
)
[ "${ARM64_TESTS:-}" ] && read -r -a TESTS <<<"$ARM64_TESTS"

say "host tools: qemu-user-static, the aarch64 cross compiler"
missing=()
command -v qemu-aarch64-static >/dev/null || missing+=(qemu-user-static)
command -v aarch64-linux-gnu-g++ >/dev/null || missing+=(g++-aarch64-linux-gnu)
command -v make >/dev/null || missing+=(make)
command -v python3 >/dev/null || missing+=(python3)
if [ ${#missing[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || die "needs ${missing[*]}: run as root once, or apt-get install -y ${missing[*]}"
  "${NICE[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
fi
qemu-aarch64-static --version | head -1
aarch64-linux-gnu-g++ --version | head -1

say "Debian $SUITE arm64 packages into $SYSROOT (private apt state, nothing installed on the host)"
mkdir -p "$APTDIR"/{state/lists/partial,cache/archives/partial,etc/apt.conf.d,etc/preferences.d,etc/sources.list.d} "$SYSROOT"
: >"$APTDIR/state/status"
{
  echo "deb [arch=arm64 signed-by=$KEYRING] $MIRROR bookworm main"
  [ "$SUITE" = bookworm ] || echo "deb [arch=arm64 signed-by=$KEYRING] $MIRROR $SUITE main"
} >"$APTDIR/etc/sources.list"
APT_OPTS=(
  -o "Dir::State=$APTDIR/state" -o "Dir::State::status=$APTDIR/state/status" -o "Dir::Cache=$APTDIR/cache"
  -o "Dir::Etc::SourceList=$APTDIR/etc/sources.list" -o "Dir::Etc::SourceParts=$APTDIR/etc/sources.list.d"
  -o "Dir::Etc::Parts=$APTDIR/etc/apt.conf.d" -o "Dir::Etc::PreferencesParts=$APTDIR/etc/preferences.d"
  -o "Dir::Etc::Preferences=$APTDIR/etc/preferences"
  -o APT::Architecture=arm64 -o APT::Architectures=arm64 -o APT::Install-Recommends=false
  -o Debug::NoLocking=1
)
"${NICE[@]}" apt-get "${APT_OPTS[@]}" update -qq
echo "Debian's arm64 nodejs (apt-cache policy nodejs:arm64; bookworm = Debian 12, $SUITE the suite used):"
apt-cache "${APT_OPTS[@]}" policy nodejs | sed -n '2,$p'
if [ ! -x "$SYSROOT/usr/bin/node" ]; then
  # nodejs: the runtime; libnode-dev: its headers (include/node), so better-sqlite3 is compiled against the very
  # Node it will run on. libstdc++6 and libgcc-s1 come with nodejs and also serve the cross-built addon.
  "${NICE[@]}" apt-get "${APT_OPTS[@]}" install -y -qq --download-only -t "$SUITE" nodejs libnode-dev
  for deb in "$APTDIR"/cache/archives/*.deb; do dpkg-deb -x "$deb" "$SYSROOT"; done
  # usrmerge: the loader is looked up as /lib/ld-linux-aarch64.so.1
  for d in bin lib sbin; do [ -e "$SYSROOT/$d" ] || ln -s "usr/$d" "$SYSROOT/$d"; done
fi
# qemu-user 7.2 passes the host's /proc/cpuinfo through (an aarch64 one is emulated only from qemu 8.2). The cpuinfo
# library inside onnxruntime finds no ARM processor in the x86 text and dereferences NULL while the addon loads
# (SIGSEGV in require('onnxruntime-node')). qemu looks up paths under -L first, so the sysroot gets the /proc/cpuinfo
# of a Cortex-A72 (Raspberry Pi 4) with as many processors as this machine has.
mkdir -p "$SYSROOT/proc"
: >"$SYSROOT/proc/cpuinfo"
for i in $(seq 0 $(($(nproc --all) - 1))); do
  printf 'processor\t: %d\nBogoMIPS\t: 108.00\nFeatures\t: fp asimd evtstrm crc32 cpuid\nCPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: 0x0\nCPU part\t: 0xd08\nCPU revision\t: 3\n\n' "$i" >>"$SYSROOT/proc/cpuinfo"
done
export QEMU_LD_PREFIX=$SYSROOT
ARM_NODE=(qemu-aarch64-static -L "$SYSROOT" "$SYSROOT/usr/bin/node")
node_version=$("${ARM_NODE[@]}" -p 'process.version + " " + process.arch + " (" + process.platform + ")"')
echo "arm64 node: $node_version"
major=$("${ARM_NODE[@]}" -p 'process.versions.node.split(".")[0]')
[ "$major" -ge 20 ] || die "Debian $SUITE's nodejs is $node_version; hubnlu needs Node >= 20 (set ARM64_DEBIAN_SUITE to a suite that has it)"
abi=$("${ARM_NODE[@]}" -p 'process.versions.modules')

say "the repository, copied to $COPY"
(cd "$REPO" && nice -n 10 npx tsc -p tsconfig.json)
mkdir -p "$COPY"
# Sources and the built JavaScript (architecture independent); models and configs are read at run time.
(cd "$REPO" && tar -cf - --exclude=./node_modules --exclude=./.git --exclude=./data .) | (cd "$COPY" && tar -xf -)
if [ ! -d "$COPY/node_modules" ]; then
  # Hard links: cheap, and nothing in the copy is written to except better-sqlite3, which is a real copy.
  cp -al "$REPO/node_modules" "$COPY/node_modules"
  rm -rf "$COPY/node_modules/better-sqlite3"
  cp -a "$REPO/node_modules/better-sqlite3" "$COPY/node_modules/better-sqlite3"
  rm -rf "$COPY/node_modules/better-sqlite3/build" "$COPY/node_modules/better-sqlite3/prebuilds"
fi
ort="$COPY/node_modules/onnxruntime-node/bin/napi-v6/linux/arm64/onnxruntime_binding.node"
[ -f "$ort" ] || die "onnxruntime-node has no linux/arm64 binary at $ort"
echo "onnxruntime-node arm64 binary: $(file -b "$ort" | cut -d, -f1-2)"

say "better-sqlite3 cross-compiled for arm64 (node-gyp --arch=arm64, aarch64-linux-gnu-g++, Node $abi headers from $SUITE)"
addon="$COPY/node_modules/better-sqlite3/build/Release/better_sqlite3.node"
if [ ! -f "$addon" ]; then
  NODE_GYP=$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js
  [ -f "$NODE_GYP" ] || die "node-gyp not found next to npm ($NODE_GYP)"
  (cd "$COPY/node_modules/better-sqlite3" &&
    CC=aarch64-linux-gnu-gcc CXX=aarch64-linux-gnu-g++ LINK=aarch64-linux-gnu-g++ AR=aarch64-linux-gnu-ar \
      "${NICE[@]}" node "$NODE_GYP" rebuild --release --arch=arm64 --nodedir="$SYSROOT/usr" -j 2 >"$WORK/better-sqlite3-build.log" 2>&1) ||
    { tail -30 "$WORK/better-sqlite3-build.log"; die "better-sqlite3 did not build for arm64 (log: $WORK/better-sqlite3-build.log)"; }
fi
echo "better-sqlite3 addon: $(file -b "$addon" | cut -d, -f1-2)"

say "smoke test under qemu-aarch64"
(cd "$COPY" && "${ARM_NODE[@]}" --input-type=module -e "
  import Database from 'better-sqlite3';
  const db = new Database(':memory:');
  console.log('better-sqlite3 loaded: SQLite', db.prepare('select sqlite_version() as v').get().v, 'on', process.arch);
  " && "${ARM_NODE[@]}" dist/src/cli/main.js classify 'turn off the kitchen lights' --compact)

say "same answers on both architectures: 200 short commands in five languages, x64 (host) vs arm64 (qemu)"
(cd "$COPY" && node scripts/arm64-compare.mjs >"$WORK/answers-x64.jsonl" && "${ARM_NODE[@]}" scripts/arm64-compare.mjs >"$WORK/answers-arm64.jsonl")
node --input-type=module -e "
  import { readFileSync } from 'node:fs';
  const read = (f) => readFileSync(f, 'utf8').trim().split('\\n').map((l) => JSON.parse(l));
  const x = read('$WORK/answers-x64.jsonl'), a = read('$WORK/answers-arm64.jsonl');
  let labels = 0, maxDiff = 0;
  const scores = (r) => [r.intent?.confidence ?? 0, ...(r.alternatives ?? []).map((v) => v.confidence), r.sentiment?.score ?? 0, ...Object.values(r.sentiment?.scores ?? {})];
  x.forEach((r, i) => {
    const s = a[i];
    const same = s && r.lang === s.lang && r.intent?.name === s.intent?.name && r.sentiment?.label === s.sentiment?.label &&
      JSON.stringify((r.alternatives ?? []).map((v) => v.name)) === JSON.stringify((s.alternatives ?? []).map((v) => v.name)) &&
      JSON.stringify((r.slots ?? []).map((v) => [v.type, v.value, v.start, v.end])) === JSON.stringify((s.slots ?? []).map((v) => [v.type, v.value, v.start, v.end]));
    if (!same) { labels++; console.log('differs:', JSON.stringify(r.text)); }
    if (s) scores(r).forEach((v, k) => (maxDiff = Math.max(maxDiff, Math.abs(v - scores(s)[k]))));
  });
  console.log(x.length + ' texts: ' + (x.length - labels) + ' with the same language, intent, alternatives, slots and sentiment; largest score difference ' + maxDiff.toExponential(2));
  if (a.length !== x.length || labels > 0 || maxDiff > 1e-3) process.exit(1);
" || die "arm64 answers differ from x64"

say "tests under qemu-aarch64 (${#TESTS[@]} files)"
# The tests' waitFor deadlines (hermes.e2e waits 2-5 s for an answer) are for native speed; under emulation, on a
# loaded host, one answer can take seconds. Scaled, a test fails only when the answer is wrong or never comes.
export HUBNLU_TEST_TIME_SCALE=${HUBNLU_TEST_TIME_SCALE:-30}
passed=0
failed=()
cd "$COPY"
for t in "${TESTS[@]}"; do
  start=$(date +%s)
  if "${NICE[@]}" "${ARM_NODE[@]}" --test-reporter=tap "$t" >"$WORK/$(basename "$t").log" 2>&1; then
    counts=$(grep -Eo '^# (pass|fail) [0-9]+' "$WORK/$(basename "$t").log" | tr '\n' ' ' || true)
    printf 'ok    %-48s %4ss %s\n' "$t" "$(($(date +%s) - start))" "$counts"
    passed=$((passed + 1))
  else
    printf 'FAIL  %-48s %4ss (log: %s)\n' "$t" "$(($(date +%s) - start))" "$WORK/$(basename "$t").log"
    failed+=("$t")
  fi
done

say "summary"
echo "node $node_version (Debian $SUITE) under $(qemu-aarch64-static --version | head -1)"
echo "test files passed: $passed / ${#TESTS[@]}"
if [ ${#failed[@]} -gt 0 ]; then
  printf 'failed: %s\n' "${failed[@]}"
  exit 1
fi
