#!/usr/bin/env bash
# The kineto command with hostile prompts and parameters, files it must not overwrite, and interrupts:
# every refusal exits non-zero with one line naming what was wrong, and no output is ever half-written.
#   tests/reliability/cli.sh [build/kineto]
set -uo pipefail
cd "$(dirname "$0")/../.."
KINETO=${1:-build/kineto}
TINY=tests/fixtures/tiny.kin
FULL=build/reliability-full.kin        # the shipped size, untrained: slow enough to interrupt
WORK=$(mktemp -d /tmp/kineto-cli-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
passed=0 failed=0

ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL $*"; }

# expect CODE PATTERN DESCRIPTION -- ARGS...: exit status CODE and stderr matching PATTERN (grep -E).
expect() {
    local code=$1 pattern=$2 what=$3; shift 4
    local got=0
    "$KINETO" "$@" >"$WORK/out" 2>"$WORK/err" || got=$?
    if [ "$got" != "$code" ]; then bad "$what: exit $got, expected $code ($(head -c 300 "$WORK/err"))"; return; fi
    if [ -n "$pattern" ] && ! grep -qE -- "$pattern" "$WORK/err"; then bad "$what: stderr '$(head -c 300 "$WORK/err")' lacks /$pattern/"; return; fi
    if LC_ALL=C grep -q $'[\x01-\x08\x0b-\x1f]' "$WORK/err" "$WORK/out"; then bad "$what: control characters echoed"; return; fi
    ok
}
gen() { echo generate --weights "$TINY" --steps 1 --gif "$WORK/p.gif" --force; }

# ---- prompts
expect 1 "no words" "empty prompt" -- $(gen) --prompt ""
expect 1 "no words" "whitespace prompt" -- $(gen) --prompt $'  \t\r\n '
expect 1 "known words, the model reads at most 12" "100 KB prompt of known words" -- $(gen) --prompt "$(yes red | head -c 100000 | tr '\n' ' ')"
expect 1 "no word of the prompt is in the vocabulary" "100 KB one-word prompt" -- $(gen) --prompt "$(head -c 100000 /dev/zero | tr '\0' x)"
expect 0 "" "control characters around known words" -- $(gen) --prompt $'red\x01\x02 ball\x1b[31m\x7f left'
expect 0 "" "invalid UTF-8 between known words" -- $(gen) --prompt $'red \xff\xfe\xc0\x80 ball \xed\xa0\x80'
expect 0 "" "emoji" -- $(gen) --prompt "a red 🔴 ball ⚽ 👩‍👩‍👧 moving left"
expect 0 "unknown words in the prompt: img src x onerror alert 1 script" "HTML is just words" -- $(gen) --prompt "<img src=x onerror=alert(1)> a red ball <script>"
expect 1 "no word of the prompt is in the vocabulary \(unknown: zorbly 31m florp\)" "only unknown words" -- $(gen) --prompt $'zorbly\x1b[31m florp'
expect 1 "negative prompt has 13 known words" "negative prompt too long" -- $(gen) --prompt "red" --negative "$(yes a | head -13 | tr '\n' ' ')"

# ---- parameters: the field and its range
for v in 0 -1 201 99999999999999999999 1.5 abc ""; do
    expect 2 "--steps: '$v' is not a whole number in 1\.\.200" "--steps '$v'" -- $(gen) --prompt red --steps "$v"
done
for v in nan inf -inf -1 30.5 1e309 x; do
    expect 2 "--guidance: '$v' is not a number in 0\.\.30" "--guidance '$v'" -- $(gen) --prompt red --guidance "$v"
done
for v in -1 18446744073709551616 0x 7e3; do
    expect 2 "--seed: '$v' is not a non-negative 64-bit integer" "--seed '$v'" -- $(gen) --prompt red --seed "$v"
done
expect 0 "" "seed 2^64-1" -- $(gen) --prompt red --seed 18446744073709551615
expect 1 "frames = 5 out of range 1\.\.4" "--frames the model cannot make" -- $(gen) --prompt red --frames 5
expect 2 "--frames: '0' is not a whole number in 1\.\." "--frames 0" -- $(gen) --prompt red --frames 0
expect 2 "--threads: '65' is not a whole number in 0\.\.64" "--threads 65" -- $(gen) --prompt red --threads 65
expect 2 "--steps needs a value" "--steps without a value" -- generate --prompt red --steps

# ---- files it did not create are kept unless --force
mkdir -p "$WORK/out-dir"
echo precious > "$WORK/keep.gif"
echo precious > "$WORK/out-dir/frame_002.png"
expect 1 "keep.gif exists; pass --force" "an existing GIF is not replaced" -- generate --weights "$TINY" --steps 1 --prompt red --gif "$WORK/keep.gif"
expect 1 "frame_002.png exists; pass --force" "an existing frame is not replaced" -- generate --weights "$TINY" --steps 1 --prompt red --out "$WORK/out-dir"
if [ "$(cat "$WORK/keep.gif")" = precious ] && [ "$(cat "$WORK/out-dir/frame_002.png")" = precious ] &&
   [ ! -e "$WORK/out-dir/frame_000.png" ]; then ok; else bad "refused runs left the files as they were"; fi
expect 0 "" "--force replaces them" -- generate --weights "$TINY" --steps 1 --prompt red --gif "$WORK/keep.gif" --out "$WORK/out-dir" --force
if [ "$(head -c 6 "$WORK/keep.gif")" = GIF89a ] && [ "$(tail -c 1 "$WORK/keep.gif" | od -An -tx1 | tr -d ' ')" = 3b ]; then ok; else bad "--force wrote a whole GIF"; fi
expect 1 "cannot|No such file" "a GIF in a missing directory" -- generate --weights "$TINY" --steps 1 --prompt red --gif "$WORK/missing/x.gif"
if [ -z "$(ls -A "$WORK" | grep -v -e '^out$' -e '^err$' -e '^out-dir$' -e '^keep.gif$' -e '^p.gif$')" ]; then ok; else bad "stray files: $(ls "$WORK")"; fi

# ---- interrupted: the old file stays whole, no temporary file is left
[ -f "$FULL" ] || /usr/bin/python3 tests/reliability/full_model.py "$FULL"
# interrupt SIGNAL WHEN: WHEN is a line of the CLI's output ("step 3/" or "decoded") to wait for;
# up to "decoded" the old file must stay, after it the run may have finished: old file or whole GIF.
interrupt() {
    local sig=$1 when=$2
    echo precious > "$WORK/clip.gif"
    rm -f "$WORK"/clip.gif.tmp*
    "$KINETO" generate --weights "$FULL" --prompt "a red ball" --steps 40 --threads 1 --force \
        --gif "$WORK/clip.gif" > "$WORK/progress" 2>&1 &
    local pid=$! i
    for i in $(seq 1 600); do grep -q "$when" "$WORK/progress" && break; sleep 0.05; done
    kill -s "$sig" "$pid" 2>/dev/null   # after "decoded" it may have finished already
    wait "$pid"
    local code=$? content=new
    cmp -s "$WORK/clip.gif" <(echo precious) && content=precious
    if [ "$content" != precious ] && ! { [ "$(head -c 6 "$WORK/clip.gif")" = GIF89a ] &&
        [ "$(tail -c 1 "$WORK/clip.gif" | od -An -tx1 | tr -d ' ')" = 3b ]; }; then
        bad "$sig at '$when': clip.gif is neither the old file nor a whole GIF"
    elif ls "$WORK"/clip.gif.tmp* >/dev/null 2>&1; then
        bad "$sig at '$when': a temporary file was left: $(ls "$WORK"/clip.gif.tmp*)"
    elif [ "$when" != decoded ] && [ "$content" != precious ]; then
        bad "$sig at '$when': the old file was replaced"
    elif [ "$code" = 0 ] && [ "$when" != decoded ]; then
        bad "$sig at '$when': exit 0"
    else
        ok
    fi
}
interrupt INT "step 1/"
interrupt INT "step 5/"
interrupt TERM "step 3/"
interrupt INT "step 40/"     # during the decode
interrupt INT "decoded"
interrupt TERM "decoded"

# Deterministic: the temporary file is made a FIFO beforehand (exec keeps the PID in its name), so
# the CLI blocks while opening it to write; a SIGINT then must remove it and keep the old file.
echo precious > "$WORK/fifo.gif"
bash -c 'mkfifo "$1.tmp$$" && exec "$2" generate --weights "$3" --prompt red --steps 1 --force --gif "$1"' _ \
    "$WORK/fifo.gif" "$KINETO" "$TINY" >/dev/null 2>&1 &
pid=$!
for i in $(seq 1 300); do grep -q wait_for_partner "/proc/$pid/wchan" 2>/dev/null && break; sleep 0.05; done
if ! grep -q wait_for_partner "/proc/$pid/wchan" 2>/dev/null; then
    bad "the CLI never reached the write of its temporary file"
    kill "$pid" 2>/dev/null; wait "$pid"
else
    kill -INT "$pid"
    wait "$pid"
    code=$?
    if [ "$code" != 130 ]; then bad "SIGINT while writing: exit $code, expected 130 (killed by SIGINT)"
    elif ls "$WORK"/fifo.gif.tmp* >/dev/null 2>&1; then bad "SIGINT while writing left $(ls "$WORK"/fifo.gif.tmp*)"
    elif ! cmp -s "$WORK/fifo.gif" <(echo precious); then bad "SIGINT while writing changed the old file"
    else ok; fi
fi

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
