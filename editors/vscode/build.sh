#!/usr/bin/env bash
# Builds the VS Code extension: installs the locked dependencies when needed, runs the
# tests, packages mj-lang.vsix and checks what is in it. Runs from any directory.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"

out=mj-lang.vsix

# npm ci when node_modules is missing or older than the lock file (npm writes
# node_modules/.package-lock.json on every install).
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "==> npm ci"
  npm ci
fi

echo "==> npm test"
npm test

echo "==> vsce package"
rm -f "$out"
# Non-interactive: no repository field and a licence check vsce would ask about, and no
# terminal for any other question (stdin is /dev/null, so a prompt fails instead of waiting).
npx --no-install vsce package --allow-missing-repository --skip-license --out "$out" </dev/null

echo "==> checking $out"
if [[ "$(head -c 4 "$out" | od -An -tx1 | tr -d ' \n')" != "504b0304" ]]; then
  echo "error: $out is not a zip file" >&2
  exit 1
fi

if command -v unzip >/dev/null 2>&1; then
  listing="$(unzip -Z1 "$out")"
elif command -v python3 >/dev/null 2>&1; then
  listing="$(python3 -c 'import sys, zipfile; print("\n".join(zipfile.ZipFile(sys.argv[1]).namelist()))' "$out")"
else
  echo "error: need unzip or python3 to list $out" >&2
  exit 1
fi

missing=0
for entry in \
  extension/package.json \
  extension/syntaxes/mj.tmLanguage.json \
  extension/language-configuration.json \
  extension/src/extension.js \
  extension/LICENSE.txt \
  extension/node_modules/vscode-languageclient/package.json; do
  if ! grep -qxF "$entry" <<<"$listing"; then
    echo "error: $out lacks $entry" >&2
    missing=1
  fi
done
# Development files must stay out.
for prefix in extension/test/ extension/node_modules/vscode-textmate/ extension/node_modules/vscode-oniguruma/ extension/node_modules/@vscode/vsce/; do
  if grep -q "^${prefix}" <<<"$listing"; then
    echo "error: $out contains $prefix" >&2
    missing=1
  fi
done
if [[ $missing -ne 0 ]]; then
  exit 1
fi

# The packaged code loads: unpack it and require src/extension.js with a stand-in for the
# `vscode` module; the language client must come from the package's own node_modules.
unpacked="$(mktemp -d)"
trap 'rm -rf "$unpacked"' EXIT
if command -v unzip >/dev/null 2>&1; then
  unzip -q "$out" -d "$unpacked"
else
  python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' "$out" "$unpacked"
fi
node - "$unpacked" <<'JS'
const Module = require('module');
const path = require('path');
const dir = process.argv[2];
const stub = { get: (t, p) => (p === '__esModule' ? false : (t[p] ??= new Proxy(function () {}, stub))) };
const vscode = new Proxy({}, stub);
const load = Module._load;
Module._load = function (request, ...rest) {
  return request === 'vscode' ? vscode : load.call(this, request, ...rest);
};
const ext = require(path.join(dir, 'extension', 'src', 'extension.js'));
if (typeof ext.activate !== 'function' || typeof ext.deactivate !== 'function') {
  throw new Error('extension.js exports no activate/deactivate');
}
const client = require.resolve('vscode-languageclient/node', { paths: [path.join(dir, 'extension', 'src')] });
if (!client.startsWith(dir + path.sep)) throw new Error(`vscode-languageclient resolved outside the package: ${client}`);
console.log(`src/extension.js loads; the client is ${path.relative(dir, client)}`);
JS

bytes="$(wc -c <"$out" | tr -d ' ')"
files="$(grep -vc '/$' <<<"$listing")"
echo "OK: $(pwd)/$out, $bytes bytes ($(( (bytes + 1023) / 1024 )) KiB), $files entries"
