#!/usr/bin/env bash
# A newcomer's first five minutes, as CI sees them: clone the repository into a
# temporary folder and run exactly the README's two commands, non-interactively.
#   1. cargo run -- tui samples/   (driven in tmux: must show findings, quits on q)
#   2. cargo test
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d)
SESSION="skilltrace-first5-$$"
# A private tmux server: a server already running would hand the new session
# its own environment (not this script's CARGO_TARGET_DIR and SKILLTRACE_DB).
TMUX_SOCK="skilltrace-first5-$$"
unset TMUX
tmx() { tmux -L "$TMUX_SOCK" "$@"; }
cleanup() { tmx kill-server 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

# The two commands, read from the README itself so they can never drift apart.
TUI_CMD=$(grep -m1 -o 'cargo run -- tui samples/' "$ROOT/README.md")
TEST_CMD=$(grep -m1 -E '^cargo test' "$ROOT/README.md" || true)
[ -n "$TUI_CMD" ] || { echo "README lacks the TUI command"; exit 1; }
[ -n "$TEST_CMD" ] || { echo "README lacks the test command"; exit 1; }

git clone -q "$ROOT" "$WORK/skilltrace"
cd "$WORK/skilltrace"
# Reuse compiled dependencies from the outer build; the crate itself is rebuilt from the clone.
export CARGO_TARGET_DIR="$ROOT/target"
export SKILLTRACE_DB="$WORK/should-not-be-created.db"
export SKILLTRACE_CONFIG="$WORK/no-config.toml"

echo "-- building (the debug build the tests reuse) (${SECONDS}s)"
cargo build --quiet
echo "-- $TUI_CMD (in tmux)"
tmx new-session -d -s "$SESSION" -x 160 -y 48 "cd '$WORK/skilltrace' && $TUI_CMD 2>'$WORK/tui.err'; echo EXITED:\$? > '$WORK/tui.exit'; sleep 30"
screen=""
# Wait for the Runs view to fill from samples/, then go to Findings with Tab.
for _ in $(seq 1 100); do
  sleep 0.3
  screen=$(tmx capture-pane -p -t "$SESSION" 2>/dev/null || true)
  if grep -qE 'Runs \([1-9]' <<<"$screen" && grep -qE ' C[1-9]' <<<"$screen"; then break; fi
done
tmx send-keys -t "$SESSION" Tab
for _ in $(seq 1 50); do
  sleep 0.2
  screen=$(tmx capture-pane -p -t "$SESSION" 2>/dev/null || true)
  if grep -qE 'CRIT +open' <<<"$screen"; then break; fi
done
if ! grep -qE 'CRIT +open' <<<"$screen"; then
  echo "the TUI did not show findings from samples/:"; echo "$screen"; cat "$WORK/tui.err" 2>/dev/null || true; exit 1
fi
echo "$screen" | head -20
tmx send-keys -t "$SESSION" q
for _ in $(seq 1 50); do
  sleep 0.2
  [ -f "$WORK/tui.exit" ] && break
done
[ -f "$WORK/tui.exit" ] || { echo "the TUI did not quit on q"; exit 1; }
grep -q 'EXITED:0' "$WORK/tui.exit" || { echo "the TUI exited non-zero: $(cat "$WORK/tui.exit")"; cat "$WORK/tui.err"; exit 1; }
[ ! -e "$SKILLTRACE_DB" ] || { echo "demo mode wrote to the default store"; exit 1; }
echo "-- the TUI showed findings and quit cleanly"

echo "-- $TEST_CMD (${SECONDS}s)"
$TEST_CMD
