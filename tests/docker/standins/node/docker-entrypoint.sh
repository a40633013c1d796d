#!/bin/sh
# Behaves like the official node image's entrypoint: arguments that start
# with "-", or that name no command, are given to node; anything else runs
# as it is.
set -e
first="${1-}"
case "$first" in
  -*) set -- node "$@" ;;
  *)
    if [ "$#" -eq 0 ] || ! command -v "$first" >/dev/null 2>&1 || { [ -f "$first" ] && ! [ -x "$first" ]; }; then
      set -- node "$@"
    fi
    ;;
esac
exec "$@"
