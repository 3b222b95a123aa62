#!/usr/bin/env python3
"""Checks deploy/k8s: every file parses as YAML; every object has apiVersion, kind,
metadata.name and the hecnn namespace; Deployments have a selector matching their pod
labels and containers with resource requests; Services select pods some Deployment makes;
HPAs target an existing Deployment. Exits 1 naming the first problem."""
import os, pathlib, sys
try:
    import yaml
except ImportError:  # Debian's python3-yaml, when python3 is another interpreter
    sys.path.append("/usr/lib/python3/dist-packages")
    try:
        import yaml
    except ImportError:
        if os.environ.get("HECNN_REQUIRE_DATA", "0") not in ("", "0"):
            print("FAIL: PyYAML is not installed (Debian python3-yaml) and HECNN_REQUIRE_DATA is set")
            sys.exit(1)
        print("SKIP: PyYAML is not installed (Debian python3-yaml)")
        sys.exit(0)

root = pathlib.Path(__file__).resolve().parent / "k8s"
objs = []
for f in sorted(root.glob("*.yaml")):
    for doc in yaml.safe_load_all(f.read_text()):
        if doc is None:
            continue
        for key in ("apiVersion", "kind", "metadata"):
            if key not in doc:
                sys.exit(f"{f.name}: an object without {key}")
        if doc["kind"] != "Namespace" and doc["metadata"].get("namespace") != "hecnn":
            sys.exit(f"{f.name}: {doc['kind']} {doc['metadata'].get('name')} is not in namespace hecnn")
        objs.append((f.name, doc))
deploys = {d["metadata"]["name"]: d for _, d in objs if d["kind"] == "Deployment"}
for name, d in deploys.items():
    sel = d["spec"]["selector"]["matchLabels"]
    labels = d["spec"]["template"]["metadata"]["labels"]
    if any(labels.get(k) != v for k, v in sel.items()):
        sys.exit(f"Deployment {name}: selector {sel} does not match pod labels {labels}")
    for c in d["spec"]["template"]["spec"]["containers"]:
        if "requests" not in c.get("resources", {}):
            sys.exit(f"Deployment {name}: container {c['name']} has no resource requests")
for f, s in objs:
    if s["kind"] == "Service":
        sel = s["spec"]["selector"]
        if not any(all(d["spec"]["template"]["metadata"]["labels"].get(k) == v for k, v in sel.items()) for d in deploys.values()):
            sys.exit(f"{f}: Service {s['metadata']['name']} selects no Deployment's pods")
    if s["kind"] == "HorizontalPodAutoscaler":
        t = s["spec"]["scaleTargetRef"]["name"]
        if t not in deploys:
            sys.exit(f"{f}: HPA targets {t}, which no manifest defines")
print(f"deploy/k8s: {len(objs)} objects in {len(list(root.glob('*.yaml')))} files are well-formed")
