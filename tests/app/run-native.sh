#!/usr/bin/env bash
# The app calling Chromium on its native GStreamer engine: tests/app/run.sh --native.
exec "$(dirname "$0")/run.sh" --native "$@"
