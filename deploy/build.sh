#!/bin/sh
# build.sh OUT builds the lrs binary as the container image ships it: static
# (CGO_ENABLED=0; the SQLite driver is pure Go), without local paths
# (-trimpath) or symbol tables (-s -w). The Dockerfile's build stage runs it
# and so does .ci/run, so that CI catches a change that breaks the image's
# build without a Docker engine.
#
# cmd/lrs has no version variable yet; when it gets one (var version
# string in package main), add -X main.version=$VERSION to the flags below.
set -eu
out=${1:?usage: deploy/build.sh OUT}
cd "$(dirname "$0")/.."
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$out" ./cmd/lrs
