#!/bin/sh
# build.sh OUT builds the lrs binary as the container image ships it: static
# (CGO_ENABLED=0; the SQLite driver is pure Go), without local paths
# (-trimpath) or symbol tables (-s -w). The Dockerfile's build stage runs it
# and so does .ci/run, so that CI catches a change that breaks the image's
# build without a Docker engine.
#
# VERSION, when set, is the product version the binary reports (lrs
# version, /xapi/about, lrs_build_info); unset, it reports the module's
# build information.
set -eu
out=${1:?usage: deploy/build.sh OUT}
cd "$(dirname "$0")/.."
ldflags="-s -w"
if [ -n "${VERSION:-}" ]; then
	ldflags="$ldflags -X github.com/digione/lrs/lrs.Version=$VERSION"
fi
CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$out" ./cmd/lrs
