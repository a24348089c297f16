# tests/: GTest programs (TAP) and reference checks. Each module adds its own below.
EXTRA_DIST += tests/run-test.sh tests/summary.sh
