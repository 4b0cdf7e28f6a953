#!/usr/bin/env bash
# Installs hubnlu as a systemd service from this source tree, on a bare machine:
#   1. copies the sources to <prefix>.new-<pid>, runs the full `npm ci` there (the
#      build needs TypeScript, a dev dependency), builds, then `npm prune --omit=dev`,
#      and moves the result to <prefix> (default /opt/hubnlu) in one rename;
#   2. creates the system user (default hubnlu) when it is missing;
#   3. creates /etc/hubnlu (config from config/hubnlu.example.yaml, never
#      overwriting an existing one) and /var/lib/hubnlu (0700, the service user's);
#   4. installs the unit as /etc/systemd/system/hubnlu.service (paths, user and the
#      node binary filled in) and checks it with `systemd-analyze verify`;
#   5. enables it when systemd is running (and starts it with --start); in a
#      container, or with --root, it says so and stops there.
#
# Usage: sudo scripts/install.sh [--prefix DIR] [--root DIR] [--user NAME] [--no-user] [--no-enable] [--start]
#   --prefix DIR   where the package goes (default /opt/hubnlu)
#   --root DIR     install every file under DIR as if it were / (images, tests); nothing is
#                  enabled or started. The service user is still created on this machine
#                  (when run as root) unless --no-user.
#   --user NAME    the service user and group (default hubnlu)
#   --no-user      do not create the user (it must exist, or be created on the target)
#   --no-enable    install and verify only
#   --start        also start (or restart) the service after enabling it
# Run without root only with --root: then no user is created and nothing is chowned.
# Exit status: 0 installed; 1 a step failed (the message says which); 2 a bad command line (nothing touched).
set -euo pipefail
umask 022

SRC=$(cd "$(dirname "$0")/.." && pwd)
ROOT=''
PREFIX=/opt/hubnlu
SVC_USER=hubnlu
CREATE_USER=1
ENABLE=1
START=0

say() { printf 'hubnlu install: %s\n' "$*"; }
die() { printf 'hubnlu install: error: %s\n' "$*" >&2; exit 1; }
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
# A bad command line: exit 2 (as hubnlu's own usage errors), with the usage line.
usage_error() {
  printf 'hubnlu install: error: %s\n' "$*" >&2
  grep -m1 '^# Usage: ' "$0" | sed 's/^# //' >&2
  exit 2
}

while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) [ $# -ge 2 ] || usage_error "--prefix needs a directory"; PREFIX=$2; shift 2 ;;
    --prefix=*) PREFIX=${1#*=}; shift ;;
    --root) [ $# -ge 2 ] || usage_error "--root needs a directory"; ROOT=$2; shift 2 ;;
    --root=*) ROOT=${1#*=}; shift ;;
    --user) [ $# -ge 2 ] || usage_error "--user needs a name"; SVC_USER=$2; shift 2 ;;
    --user=*) SVC_USER=${1#*=}; shift ;;
    --no-user) CREATE_USER=0; shift ;;
    --no-enable) ENABLE=0; shift ;;
    --start) START=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage_error "unknown option $1 (see --help)" ;;
  esac
done

case "$PREFIX" in /*) ;; *) usage_error "--prefix must be an absolute path (got $PREFIX)" ;; esac
case "$PREFIX" in /|/usr|/etc|/var|/opt|/home|/root) usage_error "--prefix $PREFIX would replace a system directory; use a directory of its own such as /opt/hubnlu" ;; esac
[[ "$SVC_USER" =~ ^[a-z_][a-z0-9_-]{0,30}$ ]] || usage_error "--user $SVC_USER: not a valid user name (lower-case letters, digits, _ and -)"
PREFIX=${PREFIX%/}
if [ -n "$ROOT" ]; then
  mkdir -p "$ROOT"
  ROOT=$(cd "$ROOT" && pwd)
  [ "$ROOT" = / ] && ROOT=''
fi

IS_ROOT=0
[ "$(id -u)" = 0 ] && IS_ROOT=1
if [ "$IS_ROOT" = 0 ] && [ -z "$ROOT" ]; then
  die "run as root (sudo $0 ...), or give --root DIR to install into a directory tree"
fi

# --- prerequisites -----------------------------------------------------------
NODE=$(command -v node || true)
[ -n "$NODE" ] || die "node not found; install Node.js 20 or later"
command -v npm >/dev/null || die "npm not found; install it with Node.js"
NODE_MAJOR=$("$NODE" -p 'process.versions.node.split(".")[0]')
[ "$NODE_MAJOR" -ge 20 ] || die "Node.js $("$NODE" --version) is too old; hubnlu needs 20 or later"
case "$NODE" in
  /home/*|/root/*|/run/user/*)
    die "node is $NODE: the unit's ProtectHome=yes hides home directories from the service; install Node.js system-wide (e.g. /usr/bin/node)" ;;
esac
command -v systemd-analyze >/dev/null || die "systemd-analyze not found; install systemd (apt-get install systemd) so the unit can be verified"

DEST="$ROOT$PREFIX"
STAGE="$DEST.new-$$"
ETC="$ROOT/etc/hubnlu"
STATE="$ROOT/var/lib/hubnlu"
UNIT_DIR="$ROOT/etc/systemd/system"
UNIT="$UNIT_DIR/hubnlu.service"

cleanup() { rm -rf "$STAGE"; }
trap cleanup EXIT

# --- 1. build ----------------------------------------------------------------
say "building in $STAGE (full npm ci, build, then npm prune --omit=dev)"
mkdir -p "$(dirname "$DEST")"
rm -rf "$STAGE"
mkdir -p "$STAGE"
tar -C "$SRC" \
  --exclude=./node_modules --exclude=./dist --exclude=./data --exclude=./.git \
  --exclude=./test --exclude=./bench --exclude=./.ci --exclude=./tmp --exclude=./.whl --exclude=./.gl \
  --exclude='*.db' --exclude='*.db-wal' --exclude='*.db-shm' \
  -cf - . | tar -C "$STAGE" -xf -
(
  cd "$STAGE"
  # onnxruntime-node ships its CPU binaries; its install script would fetch the CUDA
  # provider from NuGet on Linux x64 (package.json's allowScripts denies it on npm
  # versions that read that field; this covers older ones).
  export ONNXRUNTIME_NODE_INSTALL=skip npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false
  npm ci --no-audit --no-fund --loglevel=error
  npm run --silent build
  npm prune --omit=dev --no-audit --no-fund --loglevel=error
)
[ -f "$STAGE/dist/src/cli/main.js" ] || die "the build did not produce dist/src/cli/main.js"
[ ! -e "$STAGE/node_modules/typescript" ] || die "npm prune left the dev dependencies in place"
"$NODE" "$STAGE/dist/src/cli/main.js" --version >/dev/null || die "the built package does not run ($NODE $STAGE/dist/src/cli/main.js --version)"
if [ -e "$DEST" ]; then
  mv "$DEST" "$DEST.old-$$"
  mv "$STAGE" "$DEST"
  rm -rf "$DEST.old-$$"
else
  mv "$STAGE" "$DEST"
fi
say "package installed in $DEST"

# --- 2. user -------------------------------------------------------------------
OWN=0
if [ "$IS_ROOT" = 1 ]; then
  if getent passwd "$SVC_USER" >/dev/null; then
    say "user $SVC_USER exists"
    OWN=1
  elif [ "$CREATE_USER" = 1 ]; then
    useradd --system --user-group --home-dir /var/lib/hubnlu --no-create-home --shell /usr/sbin/nologin "$SVC_USER"
    say "created system user $SVC_USER"
    OWN=1
  else
    say "--no-user: not creating $SVC_USER; create it on the target before starting the service"
  fi
else
  say "not root: skipping the user and file ownership (they need root)"
fi
GROUP=$SVC_USER
if [ "$OWN" = 1 ]; then GROUP=$(id -gn "$SVC_USER"); fi

# --- 3. directories and configuration ------------------------------------------
owned() { # owned MODE OWNER:GROUP DIR
  if [ -d "$3" ]; then chmod "$1" "$3"; else install -d -m "$1" "$3"; fi
  if [ "$OWN" = 1 ]; then chown "$2" "$3"; fi
}
mkdir -p "$ROOT/etc" "$ROOT/var/lib"
owned 0750 "root:$GROUP" "$ETC"
if [ -e "$ETC/hubnlu.yaml" ]; then
  say "kept the existing $ETC/hubnlu.yaml"
else
  install -m 0640 "$SRC/config/hubnlu.example.yaml" "$ETC/hubnlu.yaml"
  [ "$OWN" = 1 ] && chown "root:$GROUP" "$ETC/hubnlu.yaml"
  say "wrote $ETC/hubnlu.yaml from config/hubnlu.example.yaml: edit it (broker URL, password file)"
fi
owned 0700 "$SVC_USER:$GROUP" "$STATE"

# --- 4. unit -------------------------------------------------------------------
mkdir -p "$UNIT_DIR"
sed -e "s#/opt/hubnlu#$PREFIX#g" \
    -e "s#^User=.*#User=$SVC_USER#" \
    -e "s#^Group=.*#Group=$GROUP#" \
    -e "s#^ExecStart=/usr/bin/node #ExecStart=$NODE #" \
    "$SRC/systemd/hubnlu.service" > "$UNIT.tmp"
chmod 0644 "$UNIT.tmp"
mv "$UNIT.tmp" "$UNIT"
if ! out=$(systemd-analyze verify "$UNIT" 2>&1) || printf '%s\n' "$out" | grep -q 'hubnlu\.service'; then
  printf '%s\n' "$out" >&2
  die "systemd-analyze verify found problems in $UNIT"
fi
say "installed $UNIT (systemd-analyze verify: ok)"

# --- 5. enable -----------------------------------------------------------------
if [ "$ENABLE" = 0 ]; then
  say "--no-enable: done; enable it with: systemctl enable --now hubnlu"
elif [ -n "$ROOT" ]; then
  say "installed under $ROOT: enable it on the target system with: systemctl enable --now hubnlu"
elif [ ! -d /run/systemd/system ]; then
  say "systemd is not running here (a container?): the unit is installed and verified but not enabled or started;"
  say "on a systemd host: systemctl daemon-reload && systemctl enable --now hubnlu"
else
  systemctl daemon-reload
  systemctl enable hubnlu.service
  if [ "$START" = 1 ]; then
    systemctl restart hubnlu.service
    say "enabled and started; follow it with: journalctl -u hubnlu -f"
  else
    # An upgrade replaces the code under a running service: restart it only if it runs.
    systemctl try-restart hubnlu.service
    say "enabled; edit $ETC/hubnlu.yaml, then: systemctl start hubnlu && journalctl -u hubnlu -f"
  fi
fi
