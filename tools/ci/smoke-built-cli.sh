#!/usr/bin/env bash
# Smoke test of the built CLI (apps/cli/dist, what `npm run build` makes and what the bin runs when
# it exists). vitest runs the TypeScript sources, so a path that breaks only in dist/ (as
# `bench --python` once did: tools/ resolved one level too high) needs this. Runs the embedded
# default end to end: build the pack into a scratch cache, inspect, bench (routed and naive), eval.
set -euo pipefail
cd "$(dirname "$0")/../.."

if [ ! -f apps/cli/dist/main.js ]; then
  echo "smoke: apps/cli/dist/main.js is missing; run npm run build first" >&2
  exit 1
fi
LORA_TLE_CACHE="$(mktemp -d)"
export LORA_TLE_CACHE
trap 'rm -rf "$LORA_TLE_CACHE"' EXIT
cli() { node apps/cli/bin/lora-tle.js "$@"; }

cli --version
cli inspect fixtures/tiny-tle > /dev/null
cli bench --tokens 8 --rounds 1 --modes base,token,naive --json 2> /dev/null | node -e '
  const report = JSON.parse(require("fs").readFileSync(0, "utf8"));
  const modes = report.runs.map((run) => run.mode).join(",");
  if (modes !== "base,token,naive") throw new Error(`bench modes: ${modes}`);
  if (!(report.ratios.routedOverBase > 0 && report.ratios.routedOverNaive > 0)) throw new Error(`bench ratios: ${JSON.stringify(report.ratios)}`);'
cli eval --limit 2 --modes base,adapter:math --json --out "$LORA_TLE_CACHE/eval" 2> /dev/null | node -e '
  const report = JSON.parse(require("fs").readFileSync(0, "utf8"));
  const cells = report.results.length;
  if (report.suite !== "tiny-tle" || cells !== 8) throw new Error(`eval: suite ${report.suite}, ${cells} cells`);
  const math = report.results.find((cell) => cell.task === "math" && cell.mode === "adapter:math");
  if (math.accuracy !== 1) throw new Error(`eval: the math adapter got ${math.accuracy} on 2 math items`);'
echo "smoke: the built CLI works (inspect, bench, eval)"
