"""KRM mode: a spec error in the functionConfig names the line of the file the user wrote.

`kpt fn eval --fn-config FILE` writes FILE's content (comments kept) under `functionConfig:`,
with annotations of its own added under metadata (`config.kubernetes.io/index`, ...); kustomize
does the same with a transformer config. The texts below are what kpt 1.0.0-beta.56 sent for
these files (captured with an exec function that tees its stdin); the last test runs kpt itself.
"""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import krm_failed, run_main

# A spec file; the bad name is on line 10, the repeated key of DUPLICATE on line 8.
SPEC_FILE = """\
# a comment line 1
# line 2
apiVersion: postrender/v1
kind: VolumeInjection
metadata:
  name: x   # trailing
# comment line 7

volumes:
  - name: Bad_Name
    claimName: c
    mountPath: /x
"""
ITEMS = """\
apiVersion: config.kubernetes.io/v1
kind: ResourceList
items:
- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: a
    annotations:
      config.kubernetes.io/index: '0'
      config.kubernetes.io/path: 'cm.yaml'
      internal.config.kubernetes.io/index: '0'
      internal.config.kubernetes.io/path: 'cm.yaml'
      internal.config.kubernetes.io/seqindent: 'compact'
      internal.config.kubernetes.io/id: '1'
      config.k8s.io/id: '1'
  data: {}
"""
# kpt added `annotations:` and three annotations: 4 lines above the bad name.
KPT_SENT = ITEMS + """\
functionConfig:
  # a comment line 1
  # line 2
  apiVersion: postrender/v1
  kind: VolumeInjection
  metadata:
    name: x # trailing
    annotations:
      config.kubernetes.io/index: '0'
      internal.config.kubernetes.io/index: '0'
      internal.config.kubernetes.io/seqindent: 'wide'
  # comment line 7

  volumes:
  - name: Bad_Name
    claimName: c
    mountPath: /x
"""
# The file had annotations of its own: kpt appended its three to them.
KPT_SENT_ANNOTATED = ITEMS + """\
functionConfig:
  apiVersion: postrender/v1
  kind: VolumeInjection
  metadata:
    name: airflow-volumes
    annotations:
      config.kubernetes.io/local-config: "true" # kpt/kustomize: configuration, not a resource
      config.kubernetes.io/index: '0'
      internal.config.kubernetes.io/index: '0'
      internal.config.kubernetes.io/seqindent: 'wide'
  volumes:
  - name: logs
    claimName: airflow-log-pvc
    mountPath: opt/airflow/logs
"""
DUPLICATE = ITEMS + """\
functionConfig:
  apiVersion: postrender/v1
  kind: VolumeInjection
  metadata:
    name: x
    annotations:
      config.kubernetes.io/index: '0'
      internal.config.kubernetes.io/index: '0'
      internal.config.kubernetes.io/seqindent: 'wide'
  volumes:
  - name: a
    claimName: c
    name: b
    mountPath: /x
"""


def message(text):
    _, result = krm_failed(run_main([], text.encode("utf-8")), code=2)
    return result["message"]


def test_the_line_of_the_file_kpt_read():
    assert SPEC_FILE.splitlines()[9] == "  - name: Bad_Name"
    assert message(KPT_SENT).startswith("functionConfig, line 10, volume Bad_Name: name 'Bad_Name' is invalid")


def test_annotations_of_the_users_own_count():
    # the file: apiVersion, kind, metadata, name, annotations, local-config (6), volumes, - name,
    # claimName, mountPath (10)
    assert message(KPT_SENT_ANNOTATED).startswith("functionConfig, line 10, volume logs: mountPath")


def test_a_duplicate_key_is_a_spec_error_at_the_files_line():
    # the file: apiVersion, kind, metadata, name (4), volumes, - name: a, claimName, name: b (8)
    assert message(DUPLICATE).startswith("functionConfig, line 8, column 5: duplicate key 'name'")


def test_a_functionconfig_without_added_annotations_counts_from_its_key():
    text = ITEMS + "functionConfig:\n  volumes:\n  - name: Bad_Name\n    claimName: c\n    mountPath: /x\n"
    assert message(text).startswith("functionConfig, line 2, volume Bad_Name")


@pytest.mark.skipif(shutil.which("kpt") is None, reason="kpt is not installed")
def test_real_kpt(tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata: {}\n")
    (tmp_path / "fn.yaml").write_text(SPEC_FILE)
    wrapper = tmp_path / "postrender-krm"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m postrender "$@"\n')
    wrapper.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POSTRENDER_", "HELM_"))}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])
    proc = subprocess.run(["kpt", "fn", "eval", str(package), "--exec", str(wrapper), "--fn-config",
                           str(tmp_path / "fn.yaml"), "-o", "stdout"], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path, env=env)
    assert proc.returncode != 0
    assert "functionConfig, line 10, volume Bad_Name" in proc.stdout + proc.stderr, proc.stdout + proc.stderr
