#!/usr/bin/env bash
# Checks the formatting of what changed: every C/C++ file changed since a base commit is run
# through clang-format (the repository's .clang-format) on its changed lines, and the check fails
# naming each file whose changed lines clang-format would rewrite. Lines nobody touched are not
# judged, so older code never has to be reformatted to pass.
#
# The base is the merge-base of HEAD with GD2_FORMAT_BASE (a commit or branch; default HEAD~1,
# the previous commit). Uncommitted changes to tracked files count as changed. Without that
# history (a first commit, a shallow clone without the base) the check is skipped with a message.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v clang-format >/dev/null; then
  echo "check-format: clang-format is not installed (tools/install-deps.sh installs it)" >&2
  exit 2
fi
ref=${GD2_FORMAT_BASE:-HEAD~1}
if ! git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  echo "check-format: not a git checkout; skipped"
  exit 0
fi
if ! git rev-parse --verify --quiet "${ref}^{commit}" >/dev/null ||
   ! base=$(git merge-base HEAD "$ref" 2>/dev/null); then
  echo "check-format: no history to compare with (${ref}); skipped"
  exit 0
fi

mapfile -t files < <(git diff --name-only --diff-filter=ACMR "$base" -- \
  '*.c' '*.cc' '*.cpp' '*.h' '*.hpp')
bad=()
for f in "${files[@]}"; do
  [ -f "$f" ] || continue
  # One --lines=first:last per hunk of added or changed lines ("@@ -a,b +c,d @@", d=0: none).
  ranges=()
  while read -r first count; do
    count=${count:-1}
    [ "$count" -eq 0 ] && continue
    ranges+=("--lines=${first}:$((first + count - 1))")
  done < <(git diff -U0 "$base" -- "$f" |
           sed -n 's/^@@ -[0-9,]* +\([0-9]*\)\(,\([0-9]*\)\)\{0,1\} @@.*/\1 \3/p')
  [ "${#ranges[@]}" -eq 0 ] && continue
  if ! clang-format --style=file --dry-run --Werror "${ranges[@]}" "$f" >/dev/null 2>&1; then
    bad+=("$f")
  fi
done

if [ "${#bad[@]}" -gt 0 ]; then
  echo "check-format: changed lines not formatted as .clang-format says, in:" >&2
  printf '  %s\n' "${bad[@]}" >&2
  echo "fix them with: git clang-format ${base:0:12}   (formats only the changed lines)" >&2
  exit 1
fi
echo "check-format: ${#files[@]} changed file(s) since ${base:0:12} are formatted"
