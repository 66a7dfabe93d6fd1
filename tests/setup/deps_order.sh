#!/usr/bin/env bash
# Each build.sh target installs what it needs before it calls any tool, as on a bare Debian machine.
# The machine is simulated: PATH holds the system's commands minus the build's tools (compilers,
# emcc, node, npm, chromium, clang, valgrind, python3-torch's interpreter...). Stand-ins for dpkg-query
# and apt-get keep a list of "installed" packages, and installing a package puts stand-ins for its
# tools on PATH. Every stand-in records its call, so a tool used before its package was installed is
# "command not found", and the order of calls is checked.
#   tests/setup/deps_order.sh
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=$(mktemp -d /tmp/kineto-deps-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
passed=0 failed=0
ok() { passed=$((passed + 1)); echo "    ok: $*"; }
bad() { failed=$((failed + 1)); echo "FAIL $*"; }

# The tools each package provides (only those build.sh calls).
declare -A TOOLS=(
    [build-essential]="cc gcc ar make" [emscripten]="emcc" [nodejs]="node" [npm]="npm"
    [chromium]="chromium" [clang]="clang" [valgrind]="valgrind" [imagemagick]="identify convert"
    [ffmpeg]="ffmpeg" [python3-torch]="" [python3-pytest]="pytest-3"
)
HIDDEN=" cc gcc ar make emcc node npm npx chromium clang valgrind identify convert ffmpeg pytest-3 dpkg-query apt-get "

# A fresh simulated machine in $1: bin/ (system commands + dpkg-query and apt-get stand-ins), the
# call log, the installed list, and a copy of the repository without its build outputs.
machine() {
    local m=$1
    mkdir -p "$m/bin" "$m/stubs" "$m/repo"
    # /bin is /usr/bin on current Debian; ln -s without -f keeps the first of a name
    find /usr/bin /bin -maxdepth 1 \( -type f -o -type l \) -print0 |
        grep -zvE "/($(echo $HIDDEN | tr ' ' '|'))\$" | xargs -0 ln -s -t "$m/bin" 2>/dev/null
    : > "$m/calls"; : > "$m/installed"
    # every tool: record the call, make what -o names (compilers) or what npm ci makes
    cat > "$m/stubs/tool" <<'EOF'
#!/bin/bash
name=${0##*/}
echo "$name $*" >> "$MACHINE/calls"
case $name in
    cc|gcc|clang|emcc)
        for ((i = 1; i <= $#; i++)); do
            if [ "${!i}" = -o ]; then j=$((i + 1)); mkdir -p "$(dirname "${!j}")"; echo "// $name output" > "${!j}"; fi
        done ;;
    ar) out=$2; mkdir -p "$(dirname "$out")"; : > "$out" ;;
    npm) [ "$1" = ci ] && ln -s "$REAL_NODE_MODULES" node_modules ;;
esac
exit 0
EOF
    cat > "$m/bin/dpkg-query" <<'EOF'
#!/bin/bash
pkg=${!#}
echo "dpkg-query $pkg" >> "$MACHINE/calls"
grep -qx "$pkg" "$MACHINE/installed" && { printf 'install ok installed'; exit 0; }
exit 1
EOF
    cat > "$m/bin/apt-get" <<EOF
#!/bin/bash
echo "apt-get \$*" >> "\$MACHINE/calls"
[ "\$1" = install ] || exit 0
declare -A TOOLS=($(for k in "${!TOOLS[@]}"; do printf '[%s]="%s" ' "$k" "${TOOLS[$k]}"; done))
for p in "\$@"; do
    case \$p in -*|install) continue ;; esac
    echo "\$p" >> "\$MACHINE/installed"
    for t in \${TOOLS[\$p]:-}; do ln -sf "\$MACHINE/stubs/tool" "\$MACHINE/bin/\$t"; done
done
EOF
    chmod +x "$m/stubs/tool" "$m/bin/dpkg-query" "$m/bin/apt-get"
    (cd "$ROOT" && git ls-files -co --exclude-standard -z | xargs -0 cp --parents -t "$m/repo" 2>/dev/null)
}

# target NAME PACKAGES...: ./build.sh NAME on a bare machine succeeds, installs PACKAGES, and calls no
# tool before the apt-get install.
target() {
    local name=$1; shift
    local m=$WORK/$name
    machine "$m"
    (cd "$m/repo" && MACHINE=$m REAL_NODE_MODULES="$ROOT/node_modules" PATH="$m/bin" ./build.sh "$name") \
        > "$m/log" 2>&1
    local code=$?
    if [ "$code" != 0 ]; then bad "./build.sh $name on a bare machine exited $code: $(grep -v '^\s*$' "$m/log" | tail -3)"; return; fi
    local install first_install first_tool p
    install=$(grep -m1 '^apt-get install' "$m/calls")
    for p in "$@"; do
        case " $install " in *" $p "*) ;; *) bad "./build.sh $name did not install $p (apt-get: '$install')"; return ;; esac
    done
    first_install=$(grep -n -m1 '^apt-get install' "$m/calls" | cut -d: -f1)
    first_tool=$(grep -n -m1 -vE '^(apt-get|dpkg-query) ' "$m/calls" | cut -d: -f1)
    if [ -n "$first_tool" ] && [ "$first_tool" -lt "$first_install" ]; then
        bad "./build.sh $name called '$(sed -n "${first_tool}p" "$m/calls")' before installing"; return
    fi
    if grep -q "command not found" "$m/log"; then bad "./build.sh $name: $(grep -m1 'command not found' "$m/log")"; return; fi
    ok "./build.sh $name installs $* first ($(grep -cvE '^(apt-get|dpkg-query) ' "$m/calls") tool calls after)"
}

[ -d "$ROOT/node_modules" ] || { echo "error: run npm ci (./build.sh deps) first: the npm stand-in copies node_modules" >&2; exit 1; }
target serve emscripten nodejs npm
target native build-essential libstb-dev libgif-dev
target wasm emscripten libstb-dev
target all build-essential emscripten nodejs npm
target vendor nodejs npm
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
