#!/usr/bin/env bash
# CI: the service's bounded load test (16 concurrent clients on loopback, 3 requests each)
# on the release build: 0 lost and 0 mixed-up responses. Its figures are in docs/protocol.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash tests/apps/service_load_test.sh build/apps/hecnn 16 3
