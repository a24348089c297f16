#!/bin/sh
# Prints the closing line of the test suite, `N passed, N failed`, from the TAP
# results that automake's driver wrote into the .trs files of the build tree.
dir="${1:-.}"
pass=0; fail=0; skip=0
for f in $(find "$dir" -name '*.trs' | LC_ALL=C sort); do
  p=$(grep -c '^:test-result: PASS' "$f"); x=$(grep -c '^:test-result: XFAIL' "$f")
  s=$(grep -c '^:test-result: SKIP' "$f")
  e=$(grep -c -E '^:test-result: (FAIL|XPASS|ERROR)' "$f")
  pass=$((pass + p + x)); fail=$((fail + e)); skip=$((skip + s))
done
if [ "$skip" -gt 0 ]; then
  echo "$pass passed, $fail failed, $skip skipped"
else
  echo "$pass passed, $fail failed"
fi
