#!/usr/bin/env bash
# The service as users run it (issue 13): three model holders and a coordinator as
# processes on loopback, the client over gRPC. Tiny models (8x8 inputs) keep it fast.
#   - BFV and BGV: every decrypted score equals the embedded `hecnn infer` run's; CKKS: the same predictions
#   - tokens: a client without a valid token is refused
#   - TLS: the coordinator serves TLS with a self-signed certificate made here; the client checks it
#   - policy: --insecure-loopback refuses a non-loopback address; no TLS and no flag is refused
#   - faults: a killed replica fails over to its twin; a member with no replica left gives an
#     error naming it within the deadline; a restarted holder serves again
#   service_test.sh <hecnn binary>
set -uo pipefail
hecnn="$(realpath "$1")"
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
fail=0
ok() { echo "ok: $1"; }
bad() { echo "FAIL: $1"; fail=1; }

# ---- models and images ----
printf 'input 1 8 8\nconv 2 3 stride 2\nact\ndense 4\n' > "$tmp/tiny.arch"
python3 - "$tmp" <<'PY'
import random, sys
d = sys.argv[1]
for m in range(3):
    random.seed(100 + m)
    open(f"{d}/m{m}_l0.csv", "w").write("\n".join(",".join(f"{random.uniform(-1,1):.4f}" for _ in range(10)) for _ in range(2)))
    open(f"{d}/m{m}_l1.csv", "w").write("\n".join(",".join(f"{random.uniform(-1,1):.4f}" for _ in range(19)) for _ in range(4)))
random.seed(7)
for i in range(6):
    open(f"{d}/img{i}.pgm", "wb").write(b"P5\n8 8\n255\n" + bytes(random.randrange(256) for _ in range(64)))
PY
for m in 0 1 2; do
  "$hecnn" model-import-csv --arch "$tmp/tiny.arch" --out "$tmp/m$m.hecnn" "$tmp/m${m}_l0.csv" "$tmp/m${m}_l1.csv" >/dev/null || { bad "model $m"; exit 1; }
done
imgs=(); for i in 0 1 2 3 4 5; do imgs+=(--image "$tmp/img$i.pgm"); done
printf '# client tokens\nclient-token-aaaaaaaaaaaa\nclient-token-bbbbbbbbbbbb\n' > "$tmp/tokens"
peer=peer-token-0123456789abcdef

# start_holder NAME MODEL [extra args]: starts a holder on a free port; prints the port
start_holder() {
  local name="$1" model="$2"; shift 2
  rm -f "$tmp/$name.port"
  "$hecnn" holder --model "$model" --listen "${LISTEN:-127.0.0.1:0}" --port-file "$tmp/$name.port" --insecure-loopback \
    --tokens "$tmp/tokens" --peer-token "$peer" "$@" 2>"$tmp/$name.log" &
  echo $! > "$tmp/$name.pid"
  for _ in $(seq 100); do [ -s "$tmp/$name.port" ] && break; sleep 0.1; done
}
for h in a0 a1 b c; do :; done
start_holder a0 "$tmp/m0.hecnn"; start_holder a1 "$tmp/m0.hecnn"; start_holder b "$tmp/m1.hecnn"; start_holder c "$tmp/m2.hecnn"
for h in a0 a1 b c; do pids+=("$(cat "$tmp/$h.pid")"); [ -s "$tmp/$h.port" ] || { bad "holder $h did not start"; cat "$tmp/$h.log"; exit 1; }; done
pa0=$(cat "$tmp/a0.port"); pa1=$(cat "$tmp/a1.port"); pb=$(cat "$tmp/b.port"); pc=$(cat "$tmp/c.port")

# TLS for the coordinator: a self-signed certificate for 127.0.0.1, made now.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$tmp/key.pem" -out "$tmp/cert.pem" -days 1 -subj "/CN=127.0.0.1" \
  -addext "subjectAltName=IP:127.0.0.1" >/dev/null 2>&1 || bad "openssl"
"$hecnn" coordinator --member "m0=127.0.0.1:$pa0,127.0.0.1:$pa1" --member "m1=127.0.0.1:$pb" --member "m2=127.0.0.1:$pc" \
  --combiner mean --calibrate 0 --listen 127.0.0.1:0 --port-file "$tmp/coord.port" --tls-cert "$tmp/cert.pem" --tls-key "$tmp/key.pem" \
  --tokens "$tmp/tokens" --peer-token "$peer" --deadline 60 2>"$tmp/coord.log" &
pids+=($!)
for _ in $(seq 200); do [ -s "$tmp/coord.port" ] && break; sleep 0.1; done
[ -s "$tmp/coord.port" ] || { bad "coordinator did not start"; cat "$tmp/coord.log"; exit 1; }
coord=127.0.0.1:$(cat "$tmp/coord.port")
# A second coordinator over the same holders that drops a member that does not answer.
"$hecnn" coordinator --member "m0=127.0.0.1:$pa0,127.0.0.1:$pa1" --member "m1=127.0.0.1:$pb" --member "m2=127.0.0.1:$pc" \
  --combiner mean --calibrate 0 --on-missing-member drop --listen 127.0.0.1:0 --port-file "$tmp/drop.port" --insecure-loopback \
  --tokens "$tmp/tokens" --peer-token "$peer" --deadline 60 2>"$tmp/drop.log" &
pids+=($!)
for _ in $(seq 200); do [ -s "$tmp/drop.port" ] && break; sleep 0.1; done
[ -s "$tmp/drop.port" ] || { bad "drop coordinator did not start"; cat "$tmp/drop.log"; exit 1; }
CLIENT=("$hecnn" client --coordinator "$coord" --tls-ca "$tmp/cert.pem")
client() { "${CLIENT[@]}" "$@"; }

# ---- BFV: scores equal the embedded run's ----
"$hecnn" infer --model "$tmp/m0.hecnn" --model "$tmp/m1.hecnn" --model "$tmp/m2.hecnn" --combiner mean "${imgs[@]}" --json \
  >"$tmp/embedded.json" 2>"$tmp/embedded.err" || { bad "embedded infer"; cat "$tmp/embedded.err"; }
if client --token client-token-aaaaaaaaaaaa "${imgs[@]}" --json >"$tmp/svc.json" 2>"$tmp/svc.err"; then
  if python3 - "$tmp/svc.json" "$tmp/embedded.json" <<'PY'
import json, sys
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert [o["name"] for o in a["outputs"]] == [o["name"] for o in b["outputs"]], "output names differ"
for oa, ob in zip(a["outputs"], b["outputs"]):
    assert oa["scores_first_100"] == ob["scores_first_100"], oa["name"] + ": scores differ"
    assert len(oa["scores_first_100"]) == 6
names = [p["party"] for p in a["parties"]]
assert names == ["m0", "m1", "m2", "coordinator"], names
assert a["bytes"]["input"] > 0 and a["bytes"]["output"] > 0 and a["bytes"]["evaluation_keys"] > 0
PY
  then ok "BFV over the service: every decrypted score equals the embedded run's (TLS, tokens)"; else bad "BFV scores differ"; fi
else bad "BFV client"; cat "$tmp/svc.err"; fi

# ---- CKKS: the same predictions ----
"$hecnn" infer --model "$tmp/m0.hecnn" --model "$tmp/m1.hecnn" --model "$tmp/m2.hecnn" --combiner mean --scheme ckks --calibrate 0 "${imgs[@]}" --json \
  >"$tmp/embedded_ckks.json" 2>/dev/null
if client --token client-token-bbbbbbbbbbbb --scheme ckks "${imgs[@]}" --json >"$tmp/svc_ckks.json" 2>"$tmp/svc.err"; then
  python3 - "$tmp/svc_ckks.json" "$tmp/embedded_ckks.json" <<'PY' && ok "CKKS over the service: predictions equal the embedded run's" || bad "CKKS predictions differ"
import json, sys
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
for oa, ob in zip(a["outputs"], b["outputs"]):
    assert oa["predictions_first_100"] == ob["predictions_first_100"], oa["name"]
PY
else bad "CKKS client"; cat "$tmp/svc.err"; fi

# ---- BGV: every decrypted score equals the embedded BGV run's (and the BFV scores) ----
"$hecnn" infer --model "$tmp/m0.hecnn" --model "$tmp/m1.hecnn" --model "$tmp/m2.hecnn" --combiner mean --scheme bgv "${imgs[@]}" --json \
  >"$tmp/embedded_bgv.json" 2>"$tmp/embedded.err" || { bad "embedded BGV infer"; cat "$tmp/embedded.err"; }
if client --token client-token-aaaaaaaaaaaa --scheme bgv "${imgs[@]}" --json >"$tmp/svc_bgv.json" 2>"$tmp/svc.err"; then
  python3 - "$tmp/svc_bgv.json" "$tmp/embedded_bgv.json" "$tmp/embedded.json" <<'PY' && ok "BGV over the service: every decrypted score equals the embedded BGV run's and BFV's" || bad "BGV scores differ"
import json, sys
a, b, c = (json.load(open(f)) for f in sys.argv[1:4])
assert a["scheme"] == "BGV" and b["scheme"] == "BGV", (a["scheme"], b["scheme"])
for oa, ob, oc in zip(a["outputs"], b["outputs"], c["outputs"]):
    assert oa["scores_first_100"] == ob["scores_first_100"], oa["name"] + ": service and embedded BGV differ"
    assert oa["scores_first_100"] == oc["scores_first_100"], oa["name"] + ": BGV and BFV scores differ"
PY
else bad "BGV client"; cat "$tmp/svc.err"; fi

# ---- single-image mode: one request per image, the members' outputs added ----
"$hecnn" infer --mode single --model "$tmp/m0.hecnn" --model "$tmp/m1.hecnn" --model "$tmp/m2.hecnn" --combiner mean --calibrate 0 "${imgs[@]}" --json \
  >"$tmp/embedded_single.json" 2>"$tmp/err" || { bad "embedded single"; cat "$tmp/err"; }
if client --token client-token-aaaaaaaaaaaa --mode single "${imgs[@]}" --json >"$tmp/svc_single.json" 2>"$tmp/err"; then
  python3 - "$tmp/svc_single.json" "$tmp/embedded_single.json" <<'PY' && ok "single-image mode over the service: predictions equal the float ensemble's and the embedded run's" || bad "single-image predictions differ"
import json, sys
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert a["mode"] == "single" and len(a["requests"]) == 6, (a["mode"], len(a["requests"]))
p = a["outputs"][0]["predictions"]
assert p == b["predictions"], (p, b["predictions"])
assert p == b["float_predictions"], (p, b["float_predictions"])
PY
else bad "single-image client"; cat "$tmp/err"; fi

# ---- tokens ----
expect_refused() {  # name needle command...
  local name="$1" needle="$2"; shift 2
  if timeout 60 "$@" >"$tmp/out" 2>"$tmp/err"; then bad "$name: exit 0"; return; fi
  if grep -q -- "$needle" "$tmp/err"; then ok "$name ($(head -c 160 "$tmp/err" | tr '\n' ' '))"; else bad "$name: stderr lacks '$needle'"; cat "$tmp/err"; fi
}
expect_refused "a client without a valid token is refused" "UNAUTHENTICATED" "${CLIENT[@]}" --token not-a-valid-token-xxxx "${imgs[@]}"
expect_refused "a client without the CA is refused" "TLS\|tls-ca\|loopback" "$hecnn" client --coordinator "$coord" --token client-token-aaaaaaaaaaaa "${imgs[@]}"
expect_refused "--insecure-loopback refuses 0.0.0.0" "refusing to listen" "$hecnn" holder --model "$tmp/m0.hecnn" --listen 0.0.0.0:0 --insecure-loopback
expect_refused "no TLS and no --insecure-loopback is refused" "no TLS" "$hecnn" holder --model "$tmp/m0.hecnn" --listen 127.0.0.1:0 --tokens "$tmp/tokens"
expect_refused "a tokens file without tokens is refused" "no tokens" "$hecnn" holder --model "$tmp/m0.hecnn" --listen 127.0.0.1:0 --insecure-loopback --tokens /dev/null

# ---- faults ----
# A replica killed while two clients run one-image requests: both finish with the same scores.
client --token client-token-aaaaaaaaaaaa "${imgs[@]}" --batch 1 --json >"$tmp/failover.json" 2>"$tmp/failover.err" & c1=$!
client --token client-token-bbbbbbbbbbbb "${imgs[@]}" --batch 1 --json >"$tmp/failover2.json" 2>"$tmp/failover2.err" & c2=$!
sleep 0.7
kill "$(cat "$tmp/a0.pid")"; wait "$(cat "$tmp/a0.pid")" 2>/dev/null
if wait $c1 && wait $c2; then
  python3 - "$tmp/svc.json" "$tmp/failover.json" "$tmp/failover2.json" <<'PY' && ok "a replica killed during two clients' requests: both fail over to its twin with the same scores" || bad "failover scores differ"
import json, sys
a, b, c = (json.load(open(f)) for f in sys.argv[1:4])
for x in (b, c):
    assert [o["scores_first_100"] for o in x["outputs"]] == [o["scores_first_100"] for o in a["outputs"]]
    assert len(x["requests"]) == 6
PY
else bad "failover"; cat "$tmp/failover.err" "$tmp/failover2.err"; fi
kill "$(cat "$tmp/b.pid")"; wait "$(cat "$tmp/b.pid")" 2>/dev/null
start=$(date +%s)
expect_refused "a member with no replica left is named in the error" "member m1" "${CLIENT[@]}" --token client-token-aaaaaaaaaaaa "${imgs[@]}" --deadline 50
[ $(( $(date +%s) - start )) -le 60 ] && ok "... within the deadline" || bad "the error took longer than the deadline"
# --on-missing-member drop: the ensemble of m0 and m2, which the reply names.
"$hecnn" infer --model "$tmp/m0.hecnn" --model "$tmp/m2.hecnn" --combiner mean "${imgs[@]}" --json >"$tmp/embedded2.json" 2>/dev/null
if "$hecnn" client --coordinator "127.0.0.1:$(cat "$tmp/drop.port")" --insecure-loopback --token client-token-aaaaaaaaaaaa "${imgs[@]}" --json \
    >"$tmp/drop.json" 2>"$tmp/err"; then
  python3 - "$tmp/drop.json" "$tmp/embedded2.json" "$tmp/svc.json" <<'PY' && ok "--on-missing-member drop: the ensemble of the members that answered, named in the reply" || bad "drop mode"
import json, sys
a, two, full = (json.load(open(f)) for f in sys.argv[1:4])
assert a["members_used"] == ["m0", "m2"], a["members_used"]
out = {o["name"]: o for o in a["outputs"]}
assert out["m1"].get("missing") is True
assert out["m0"]["scores_first_100"] == full["outputs"][0]["scores_first_100"]
assert out["m2"]["scores_first_100"] == full["outputs"][2]["scores_first_100"]
ens = [o for o in a["outputs"] if o["name"].startswith("ens")][0]
ens2 = [o for o in two["outputs"] if o["name"].startswith("ens")][0]
assert ens["predictions_first_100"] == ens2["predictions_first_100"], (ens["predictions_first_100"], ens2["predictions_first_100"])
PY
else bad "drop client"; cat "$tmp/err"; fi
LISTEN=127.0.0.1:$pb start_holder b "$tmp/m1.hecnn"; pids+=("$(cat "$tmp/b.pid")")
if client --token client-token-bbbbbbbbbbbb "${imgs[@]}" --json >"$tmp/restart.json" 2>"$tmp/err"; then
  python3 -c "import json; a=json.load(open('$tmp/svc.json')); b=json.load(open('$tmp/restart.json')); assert a['outputs']==b['outputs']" \
    && ok "a restarted holder serves new sessions (same scores)" || bad "restart scores differ"
else bad "restarted holder"; cat "$tmp/err"; fi
exit $fail
