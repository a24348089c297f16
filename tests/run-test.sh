#!/bin/sh
# Runs one test for automake's TAP driver: GTest programs with --tap, Python
# reference checks with Debian's interpreter (the one that has python3-numpy),
# shell tests with sh.
t="$1"; shift
case "$t" in
  *.py) exec "${NUMPY_PYTHON:-/usr/bin/python3}" "$t" "$@" ;;
  *.sh) exec sh "$t" "$@" ;;
  *) exec "$t" --tap "$@" ;;
esac
