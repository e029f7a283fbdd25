#!/usr/bin/env bash
# The kustomize post-renderer as users write it (the "peer" in the benchmark):
# Helm's rendered stream on stdin -> a throw-away kustomization -> `kubectl kustomize` on stdout.
#
# The patch puts the Airflow `logs` volume on the existing claim in every Deployment and
# StatefulSet (strategic merge: volumes merge by name; kustomize does not honour `retainKeys`,
# so the chart's emptyDir has to be deleted explicitly with `emptyDir: null`) and removes the triggerer/worker `logs` claim templates, as the chart's
# own logs.persistence does. Kustomize cannot reach the worker pod template, which is a YAML
# string inside the `<release>-config` ConfigMap, so that part is simply not done.
#
# Env: KUBECTL (default: kubectl on PATH), CLAIM (default: airflow-log-pvc).
set -euo pipefail

kubectl=${KUBECTL:-kubectl}
claim=${CLAIM:-airflow-log-pvc}

dir=$(mktemp -d "${TMPDIR:-/tmp}/kustomize-postrender.XXXXXX")
trap 'rm -rf "$dir"' EXIT
trap 'exit 143' TERM INT   # run the EXIT trap on a timeout too

cat > "$dir/all.yaml"
cat > "$dir/kustomization.yaml" <<YAML
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - all.yaml
patches:
  - target:
      kind: Deployment
    patch: |-
      apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: ignored
      spec:
        template:
          spec:
            volumes:
              - name: logs
                emptyDir: null
                persistentVolumeClaim:
                  claimName: ${claim}
  - target:
      kind: StatefulSet
    patch: |-
      apiVersion: apps/v1
      kind: StatefulSet
      metadata:
        name: ignored
      spec:
        template:
          spec:
            volumes:
              - name: logs
                emptyDir: null
                persistentVolumeClaim:
                  claimName: ${claim}
  - target:
      kind: StatefulSet
      labelSelector: component in (triggerer,worker)
    patch: |-
      apiVersion: apps/v1
      kind: StatefulSet
      metadata:
        name: ignored
      spec:
        volumeClaimTemplates: null
YAML

"$kubectl" kustomize "$dir"
