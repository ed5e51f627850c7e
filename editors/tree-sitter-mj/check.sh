#!/usr/bin/env bash
# Generates the mj tree-sitter parser, runs its corpus and highlight tests, and parses
# every example project and the standard library, failing on any ERROR or MISSING node.
# Runnable from any directory. Needs cargo (to install the CLI once), node (to read
# grammar.js) and a C compiler (the CLI compiles the generated parser).
set -euo pipefail

TS_CLI_VERSION=0.25.10

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

installed="$(tree-sitter --version 2>/dev/null | awk '{print $2}' || true)"
if [[ "$installed" != "$TS_CLI_VERSION" ]]; then
  echo "check.sh: installing tree-sitter-cli $TS_CLI_VERSION (found: ${installed:-none})" >&2
  # Build outside the repository: its target/ belongs to the mj workspace.
  CARGO_TARGET_DIR=/tmp/ts-cli-target \
    cargo install tree-sitter-cli --locked --version "$TS_CLI_VERSION"
  installed="$(tree-sitter --version | awk '{print $2}')"
  if [[ "$installed" != "$TS_CLI_VERSION" ]]; then
    echo "check.sh: tree-sitter on PATH is $installed, expected $TS_CLI_VERSION" >&2
    exit 1
  fi
fi

for tool in node cc; do
  if ! command -v "$tool" >/dev/null; then
    echo "check.sh: \`$tool\` is needed (node reads grammar.js, cc compiles the parser)" >&2
    exit 1
  fi
done

cd "$here"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT

if ! tree-sitter generate >"$log" 2>&1; then
  cat "$log" >&2
  echo "check.sh: tree-sitter generate failed" >&2
  exit 1
fi
# An unnecessary or unresolved conflict is a grammar bug even when generate succeeds.
if grep -q '^Warning' "$log"; then
  cat "$log" >&2
  echo "check.sh: tree-sitter generate warned" >&2
  exit 1
fi

if ! tree-sitter test >"$log" 2>&1; then
  cat "$log" >&2
  echo "check.sh: tree-sitter test failed" >&2
  exit 1
fi
corpus_tests=$(( $(cat test/corpus/*.txt | grep -cE '^={3,}$') / 2 ))
highlight_assertions=$(grep -oE '\([0-9]+ assertions\)' "$log" | tr -d '(' | awk '{ n += $1 } END { print n + 0 }')

files=()
while IFS= read -r -d '' f; do files+=("$f"); done \
  < <(find "$repo/examples" -type f -name '*.mj' -print0 | sort -z)
files+=("$repo/stdlib/std.mj")

failed=0
for f in "${files[@]}"; do
  status=0
  tree-sitter parse "$f" >"$log" 2>&1 || status=$?
  if grep -qE '\((ERROR|MISSING)' "$log"; then
    echo "check.sh: ${f#"$repo"/} does not parse cleanly:" >&2
    grep -E '\((ERROR|MISSING)' "$log" | sed 's/^ */  /' >&2
    failed=$((failed + 1))
  elif [[ $status -ne 0 ]]; then
    cat "$log" >&2
    echo "check.sh: tree-sitter parse failed on ${f#"$repo"/}" >&2
    failed=$((failed + 1))
  fi
done
if [[ $failed -ne 0 ]]; then
  echo "check.sh: $failed of ${#files[@]} files have ERROR or MISSING nodes" >&2
  exit 1
fi

echo "tree-sitter-mj OK (tree-sitter-cli $TS_CLI_VERSION): $corpus_tests corpus tests, $highlight_assertions highlight assertions, ${#files[@]} .mj files parsed with no ERROR/MISSING nodes"
