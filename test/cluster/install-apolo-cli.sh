#!/usr/bin/env bash
# `make apolo-cli`: the platform's own CLI (the pin in apolo-cli-requirements.txt) from PyPI in a
# virtualenv under .tools, kept between runs: skipped when that version is already installed.
# Needs Python 3.10 or later (apolo-cli's own floor). Loud on any failure, never half-installed:
# the stamp is written last, and a failed install removes the folder.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

requirement=$(grep -v '^#' test/cluster/apolo-cli-requirements.txt | grep -m1 '==')
version=${requirement#*==}
mkdir -p .tools
# The physical path: scripts in a virtualenv name their interpreter by absolute path, and .tools
# may be a link to a folder shared by several work trees.
venv=$(cd .tools && pwd -P)/apolo-cli-$version
stamp=$venv/.installed

# Runs the installed command itself: a right version whose interpreter moved is no install.
installed() {
  [[ -f $stamp && -x $venv/bin/apolo ]] &&
    [[ $("$venv/bin/apolo" --version 2>/dev/null) == *" $version" ]]
}

if installed; then
  echo "apolo-cli $version: $venv/bin/apolo (cached)"
  exit 0
fi

python=""
for candidate in python3.13 python3.12 python3.11 python3.10 python3; do
  if command -v "$candidate" >/dev/null &&
    "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' >/dev/null 2>&1; then
    python=$(command -v "$candidate")
    break
  fi
done
if [[ -z $python ]]; then
  found="no python3 on PATH"
  if command -v python3 >/dev/null; then found=$(python3 --version 2>&1 | head -1 || true); fi
  echo "make apolo-cli: apolo-cli $version needs Python 3.10 or later, found: $found." >&2
  echo "  Install one (Debian: apt-get install python3 python3-venv) and run make again." >&2
  exit 1
fi
if ! "$python" -c 'import ensurepip, venv' 2>/dev/null; then
  echo "make apolo-cli: $python has no venv/ensurepip module; installing python3-venv with apt"
  apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
fi

mkdir -p "$(dirname "$venv")"
# One installer at a time: .tools may be shared by several work trees.
exec 9>"$venv.lock"
flock 9
if installed; then
  echo "apolo-cli $version: $venv/bin/apolo (installed meanwhile)"
  exit 0
fi
echo "make apolo-cli: installing $requirement from PyPI into $venv ($("$python" --version))"
rm -rf "$venv"
log=$(mktemp)
if ! { "$python" -m venv "$venv" &&
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input "$requirement"; } >"$log" 2>&1; then
  cat "$log" >&2
  rm -rf "$venv" "$log"
  echo "make apolo-cli: installing $requirement failed (output above); nothing was kept" >&2
  exit 1
fi
rm -f "$log"
if ! "$venv/bin/apolo" --version >/dev/null; then
  rm -rf "$venv"
  echo "make apolo-cli: $venv/bin/apolo does not run after the install; nothing was kept" >&2
  exit 1
fi
touch "$stamp"
echo "apolo-cli $version: $venv/bin/apolo ($("$venv/bin/apolo" --version))"
