#!/usr/bin/env bash
# The main job as separate processes on loopback (docs/protocol.md): three model holders
# (the default members), a coordinator and the client, over gRPC; stops them at the end.
#   scripts/run-service-demo.sh                  # BFV, 100 MNIST test images
#   HECNN_DEMO_COUNT=1000 HECNN_DEMO_SCHEME=ckks scripts/run-service-demo.sh
# Every process runs without TLS on 127.0.0.1 (--insecure-loopback) with a token made
# here; docs/protocol.md shows the TLS flags for anything else.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >&2
bash scripts/build.sh >/dev/null
hecnn=build/apps/hecnn
count="${HECNN_DEMO_COUNT:-100}"
scheme="${HECNN_DEMO_SCHEME:-bfv}"
tmp=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"' EXIT
token="demo-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
peer="peer-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
echo "$token" > "$tmp/tokens"
members=()
for i in 0 1 2; do
  "$hecnn" holder --model "models/default/member$i.hecnn" --listen 127.0.0.1:0 --port-file "$tmp/h$i.port" \
    --insecure-loopback --tokens "$tmp/tokens" --peer-token "$peer" 2>"$tmp/h$i.log" &
  pids+=($!)
done
for i in 0 1 2; do
  for _ in $(seq 100); do [ -s "$tmp/h$i.port" ] && break; sleep 0.1; done
  [ -s "$tmp/h$i.port" ] || { cat "$tmp/h$i.log"; exit 1; }
  members+=(--member "m$i=127.0.0.1:$(cat "$tmp/h$i.port")")
  echo >&2 "holder m$i: pid ${pids[$i]}, port $(cat "$tmp/h$i.port")"
done
"$hecnn" coordinator "${members[@]}" --listen 127.0.0.1:0 --port-file "$tmp/c.port" --insecure-loopback \
  --tokens "$tmp/tokens" --peer-token "$peer" 2>"$tmp/c.log" &
pids+=($!)
for _ in $(seq 300); do [ -s "$tmp/c.port" ] && break; sleep 0.1; done
[ -s "$tmp/c.port" ] || { cat "$tmp/c.log"; exit 1; }
echo >&2 "coordinator: pid ${pids[3]}, port $(cat "$tmp/c.port")"
"$hecnn" client --coordinator "127.0.0.1:$(cat "$tmp/c.port")" --insecure-loopback --token "$token" \
  --dataset mnist --count "$count" --scheme "$scheme" "$@"
