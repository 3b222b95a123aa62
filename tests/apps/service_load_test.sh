#!/usr/bin/env bash
# Bounded load test of the service on loopback (issue 13): 3 holders + a coordinator as
# processes, 16 concurrent clients (distinct tokens and images), 3 requests each. Every
# client's decrypted scores must equal the embedded run's for its own images (0 lost, 0
# mixed up). Prints p50 / p99 request latency and the servers' peak memory (VmHWM).
#   service_load_test.sh <hecnn binary> [clients] [requests per client]
set -uo pipefail
hecnn="$(realpath "$1")"; clients="${2:-16}"; requests="${3:-3}"
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
per=2; images=$(( clients * requests * per ))
printf 'input 1 8 8\nconv 2 3 stride 2\nact\ndense 4\n' > "$tmp/tiny.arch"
python3 - "$tmp" "$images" <<'PY'
import random, sys
d, n = sys.argv[1], int(sys.argv[2])
for m in range(3):
    random.seed(200 + m)
    open(f"{d}/m{m}_l0.csv", "w").write("\n".join(",".join(f"{random.uniform(-1,1):.4f}" for _ in range(10)) for _ in range(2)))
    open(f"{d}/m{m}_l1.csv", "w").write("\n".join(",".join(f"{random.uniform(-1,1):.4f}" for _ in range(19)) for _ in range(4)))
random.seed(9)
for i in range(n):
    open(f"{d}/img{i}.pgm", "wb").write(b"P5\n8 8\n255\n" + bytes(random.randrange(256) for _ in range(64)))
PY
for m in 0 1 2; do "$hecnn" model-import-csv --arch "$tmp/tiny.arch" --out "$tmp/m$m.hecnn" "$tmp/m${m}_l0.csv" "$tmp/m${m}_l1.csv" >/dev/null || exit 1; done
: > "$tmp/tokens"
for c in $(seq 0 $((clients - 1))); do echo "load-client-token-$c-0123456789" >> "$tmp/tokens"; done
peer=peer-token-load-0123456789
for m in 0 1 2; do
  "$hecnn" holder --model "$tmp/m$m.hecnn" --listen 127.0.0.1:0 --port-file "$tmp/h$m.port" --insecure-loopback --tokens "$tmp/tokens" --peer-token "$peer" 2>"$tmp/h$m.log" &
  pids+=($!); echo $! > "$tmp/h$m.pid"
done
for m in 0 1 2; do for _ in $(seq 100); do [ -s "$tmp/h$m.port" ] && break; sleep 0.1; done; done
"$hecnn" coordinator --member "m0=127.0.0.1:$(cat "$tmp/h0.port")" --member "m1=127.0.0.1:$(cat "$tmp/h1.port")" --member "m2=127.0.0.1:$(cat "$tmp/h2.port")" \
  --combiner mean --listen 127.0.0.1:0 --port-file "$tmp/c.port" --insecure-loopback --tokens "$tmp/tokens" --peer-token "$peer" 2>"$tmp/c.log" &
pids+=($!); echo $! > "$tmp/c.pid"
for _ in $(seq 200); do [ -s "$tmp/c.port" ] && break; sleep 0.1; done
[ -s "$tmp/c.port" ] || { echo "FAIL: coordinator did not start"; cat "$tmp/c.log"; exit 1; }
all=(); for i in $(seq 0 $((images - 1))); do all+=(--image "$tmp/img$i.pgm"); done
"$hecnn" infer --model "$tmp/m0.hecnn" --model "$tmp/m1.hecnn" --model "$tmp/m2.hecnn" --combiner mean --batch "$per" "${all[@]}" --json >"$tmp/embedded.json" 2>/dev/null \
  || { echo "FAIL: embedded run"; exit 1; }
start=$(date +%s.%N)
cpids=()
for c in $(seq 0 $((clients - 1))); do
  args=(); for k in $(seq 0 $((requests * per - 1))); do args+=(--image "$tmp/img$(( c * requests * per + k )).pgm"); done
  "$hecnn" client --coordinator "127.0.0.1:$(cat "$tmp/c.port")" --insecure-loopback --token "load-client-token-$c-0123456789" \
    --batch "$per" "${args[@]}" --json >"$tmp/client$c.json" 2>"$tmp/client$c.err" &
  cpids+=($!)
done
lost=0
for p in "${cpids[@]}"; do wait "$p" || lost=$((lost + 1)); done
wall=$(python3 -c "import time; print(round(time.time() - $start, 2))")
hwm() { awk '/VmHWM/ {print $2}' "/proc/$(cat "$1")/status" 2>/dev/null || echo 0; }
mem_c=$(hwm "$tmp/c.pid"); mem_h=$(( $(hwm "$tmp/h0.pid") + 0 )); for m in 1 2; do v=$(hwm "$tmp/h$m.pid"); [ "$v" -gt "$mem_h" ] && mem_h=$v; done
python3 - "$tmp" "$clients" "$requests" "$per" "$lost" "$wall" "$mem_c" "$mem_h" <<'PY'
import json, sys, os
d, clients, requests, per, lost, wall, mem_c, mem_h = sys.argv[1], *map(int, sys.argv[2:6]), float(sys.argv[6]), int(sys.argv[7]), int(sys.argv[8])
emb = json.load(open(f"{d}/embedded.json"))
mixed, lat, done = 0, [], 0
for c in range(clients):
    try:
        a = json.load(open(f"{d}/client{c}.json"))
    except Exception:
        print(f"client {c}: no result:", open(f"{d}/client{c}.err").read()[-300:]); continue
    lat += [r["seconds"] for r in a["requests"]]
    done += len(a["requests"])
    first = c * requests * per
    for oa, ob in zip(a["outputs"], emb["outputs"]):
        if oa["scores_first_100"] != ob["scores_first_100"][first:first + requests * per]:
            mixed += 1
lat.sort()
q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] if lat else float("nan")
print(f"load: {clients} clients x {requests} requests of {per} images: {done} answered, {lost} clients failed, {mixed} outputs mixed up; "
      f"latency p50 {q(0.5):.2f} s, p99 {q(0.99):.2f} s, wall {wall:.1f} s; peak memory coordinator {mem_c/1024:.0f} MiB, largest holder {mem_h/1024:.0f} MiB")
sys.exit(0 if lost == 0 and mixed == 0 and done == clients * requests else 1)
PY
rc=$?
[ $rc = 0 ] && echo "ok: 0 lost, 0 mixed up" || echo "FAIL: load test"
exit $rc
