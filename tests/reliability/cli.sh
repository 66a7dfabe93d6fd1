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

# expect CODE PATTERN DESCRIPTION -- ARGS...: exit status CODE and stderr matching PATTERN (grep -E;
# grep -F when called as expect_text).
GREP_MODE=-E
expect_text() { GREP_MODE=-F expect "$@"; }
expect() {
    local code=$1 pattern=$2 what=$3; shift 4
    local got=0
    "$KINETO" "$@" >"$WORK/out" 2>"$WORK/err" || got=$?
    if [ "$got" != "$code" ]; then bad "$what: exit $got, expected $code ($(head -c 300 "$WORK/err"))"; return; fi
    if [ -n "$pattern" ] && ! grep -q "$GREP_MODE" -- "$pattern" "$WORK/err"; then bad "$what: stderr '$(head -c 300 "$WORK/err")' lacks /$pattern/"; return; fi
    if LC_ALL=C grep -q $'[\x01-\x08\x0b-\x1f]' "$WORK/err" "$WORK/out"; then bad "$what: control characters echoed"; return; fi
    ok
}
gen() { echo generate --weights "$TINY" --steps 1 --gif "$WORK/p.gif" --force; }

# ---- prompts
expect 1 "no words" "empty prompt" -- $(gen) --prompt ""
expect 1 "no words" "whitespace prompt" -- $(gen) --prompt $'  \t\r\n '
expect 1 "known words, the model reads at most 12" "4 KB prompt of known words" -- $(gen) --prompt "$(yes red | head -c 4000 | tr '\n' ' ')"
expect 1 "no word of the prompt is in the vocabulary" "4 KB one-word prompt" -- $(gen) --prompt "$(head -c 4096 /dev/zero | tr '\0' x)"
expect 1 "the prompt is longer than 4096 bytes" "100 KB prompt" -- $(gen) --prompt "$(yes red | head -c 100000 | tr '\n' ' ')"
expect 1 "the negative prompt is longer than 4096 bytes" "100 KB negative prompt" -- $(gen) --prompt red --negative "$(head -c 100000 /dev/zero | tr '\0' x)"
expect 0 "" "control characters around known words" -- $(gen) --prompt $'red\x01\x02 ball\x1b[31m\x7f left'
expect 0 "" "invalid UTF-8 between known words" -- $(gen) --prompt $'red \xff\xfe\xc0\x80 ball \xed\xa0\x80'
expect 0 "" "emoji" -- $(gen) --prompt "a red 🔴 ball ⚽ 👩‍👩‍👧 moving left"
expect 0 "unknown words in the prompt: img src x onerror alert 1 script" "HTML is just words" -- $(gen) --prompt "<img src=x onerror=alert(1)> a red ball <script>"
expect 1 "no word of the prompt is in the vocabulary \(unknown: zorbly 31m florp\)" "only unknown words" -- $(gen) --prompt $'zorbly\x1b[31m florp'
expect 1 "negative prompt has 13 known words" "negative prompt too long" -- $(gen) --prompt "red" --negative "$(yes a | head -13 | tr '\n' ' ')"

# ---- parameters: the field and its range
for v in 0 -1 201 99999999999999999999 1.5 abc "" " 5" "+5" "5 " 0x5; do
    expect_text 2 "--steps: '$v' is not a whole number in 1..200" "--steps '$v'" -- $(gen) --prompt red --steps "$v"
done
for v in nan inf -inf -1 30.5 1e309 x " 2" "+2" 0x1p1; do
    expect_text 2 "--guidance: '$v' is not a number in 0..30" "--guidance '$v'" -- $(gen) --prompt red --guidance "$v"
done
# seeds are decimal, full width, nothing else: no sign, space, base prefix or exponent
for v in -1 " -1" "+1" " 1" "1 " 18446744073709551616 99999999999999999999 0x 0x10 7e3 ""; do
    expect_text 2 "--seed: '$v' is not a decimal whole number in 0..18446744073709551615" "--seed '$v'" -- $(gen) --prompt red --seed "$v"
done
expect 0 "" "seed 2^64-1" -- $(gen) --prompt red --seed 18446744073709551615
"$KINETO" generate --weights "$TINY" --steps 1 --prompt red --seed 010 --gif "$WORK/s010.gif" >/dev/null 2>&1
"$KINETO" generate --weights "$TINY" --steps 1 --prompt red --seed 10 --gif "$WORK/s10.gif" >/dev/null 2>&1
"$KINETO" generate --weights "$TINY" --steps 1 --prompt red --seed 8 --gif "$WORK/s8.gif" >/dev/null 2>&1
if cmp -s "$WORK/s010.gif" "$WORK/s10.gif" && ! cmp -s "$WORK/s010.gif" "$WORK/s8.gif"; then ok; else bad "--seed 010 is not seed 10"; fi
rm -f "$WORK"/s*.gif

# ---- what is echoed never carries raw control characters (expect checks both streams)
expect_text 2 "--steps: '\\x1B[31mRED\\x1B[0m'" "escape sequence in --steps" -- $(gen) --prompt red --steps $'\e[31mRED\e[0m'
expect_text 1 "/x\\x1B[2J" "escape sequence in --weights" -- generate --weights $'/x\e[2J' --prompt red --gif "$WORK/p.gif"
expect_text 1 "/x\\ny" "newline in --weights" -- generate --weights $'/x\ny' --prompt red --gif "$WORK/p.gif"
[ "$(wc -l < "$WORK/err")" = 1 ] && ok || bad "a path with a newline printed over $(wc -l < "$WORK/err") lines"
expect 2 "--frames: '257' is not a whole number in 1\.\.256" "--frames 257" -- $(gen) --prompt red --frames 257

# ---- long clips, storyboards and loops: refusals name the field, and nothing is written
expect_text 1 "--seamless needs at least 2 frames" "--seamless with 1 frame" -- $(gen) --prompt red --frames 1 --seamless
expect_text 2 "--prompt: more than 64 shots" "65 shots" -- $(gen) $(for i in $(seq 65); do echo --prompt red; done)
expect_text 1 "--frames 2 is fewer than the 3 shots" "fewer frames than shots" -- $(gen) --prompt red --prompt blue --prompt ball --frames 2
expect_text 1 "shots[1].prompt has no words" "an empty shot" -- $(gen) --prompt red --prompt "  "
expect_text 1 "no word of the shots[1].prompt is in the vocabulary" "a shot of unknown words" -- $(gen) --prompt red --prompt zorbly
expect_text 1 "17 shots of 16 frames make 272, over the clip's 256" "17 default shots of the shipped model" -- generate --prompt red $(for i in $(seq 16); do echo --prompt red; done) --gif "$WORK/p.gif" --force
expect_text 1 "--overlap: '4' is not below the model's window of 4 frames" "--overlap of the whole window" -- $(gen) --prompt red --frames 9 --overlap 4
expect 0 "" "a seamless storyboard of 9 frames" -- generate --weights "$TINY" --steps 1 --prompt "a red ball moving left" --prompt "a red ball bouncing" --frames 9 --seamless --out "$WORK/story"
if [ "$(ls "$WORK/story" | wc -l)" = 9 ] && [ -e "$WORK/story/frame_008.png" ]; then ok; else bad "the storyboard wrote $(ls "$WORK/story" | wc -l) frames, not 9"; fi
grep -q "step 5/5 " "$WORK/out" && ok || bad "progress did not count the storyboard's 5 windows: $(tail -3 "$WORK/out")"
"$KINETO" generate --weights "$TINY" --steps 1 --prompt "a red ball moving left" --prompt "a red ball bouncing" --frames 9 --seamless --threads 1 --gif "$WORK/story1.gif" >/dev/null 2>&1
"$KINETO" generate --weights "$TINY" --steps 1 --prompt "a red ball moving left" --prompt "a red ball bouncing" --frames 9 --seamless --threads 3 --gif "$WORK/story3.gif" >/dev/null 2>&1
cmp -s "$WORK/story1.gif" "$WORK/story3.gif" && ok || bad "a storyboard differs between 1 and 3 threads"
rm -rf "$WORK/story" "$WORK"/story*.gif
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
expect 1 "does not exist" "a GIF in a missing directory" -- generate --weights "$TINY" --steps 1 --prompt red --gif "$WORK/missing/x.gif"
if [ -z "$(ls -A "$WORK" | grep -v -e '^out$' -e '^err$' -e '^out-dir$' -e '^keep.gif$' -e '^p.gif$')" ]; then ok; else bad "stray files: $(ls "$WORK")"; fi

# ---- interrupted: the old file stays whole, no temporary file is left
[ -f "$FULL" ] || /usr/bin/python3 tests/reliability/full_model.py "$FULL"
# interrupt SIGNAL WHEN: WHEN is a line of the CLI's output ("step 3/" or "decoded") to wait for;
# up to "decoded" the old file must stay, after it the run may have finished: old file or whole GIF.
# set -m: a background job of a script otherwise starts with SIGINT ignored, as shells do.
interrupt() {
    local sig=$1 when=$2
    set -m
    echo precious > "$WORK/clip.gif"
    rm -f "$WORK"/.kineto-*
    "$KINETO" generate --weights "$FULL" --prompt "a red ball" --steps 40 --threads 1 --force \
        --gif "$WORK/clip.gif" > "$WORK/progress" 2>&1 &
    local pid=$! i
    for i in $(seq 1 600); do grep -q "$when" "$WORK/progress" && break; sleep 0.05; done
    kill -s "$sig" "$pid" 2>/dev/null   # after "decoded" it may have finished already
    wait "$pid" 2>/dev/null   # no job-control notice
    local code=$? content=new
    set +m
    cmp -s "$WORK/clip.gif" <(echo precious) && content=precious
    if [ "$content" != precious ] && ! { [ "$(head -c 6 "$WORK/clip.gif")" = GIF89a ] &&
        [ "$(tail -c 1 "$WORK/clip.gif" | od -An -tx1 | tr -d ' ')" = 3b ]; }; then
        bad "$sig at '$when': clip.gif is neither the old file nor a whole GIF"
    elif ls "$WORK"/.kineto-* >/dev/null 2>&1; then
        bad "$sig at '$when': a temporary file was left: $(ls "$WORK"/.kineto-*)"
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

# Signals at random points, and while the files are written: tests/reliability/test_cli_signals.py.

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
