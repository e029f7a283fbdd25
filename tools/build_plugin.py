"""Build the Helm 4 plugin release: dist/postrender-<version>.tgz (and its .prov when signing).

    python tools/build_plugin.py                 # `make plugin`
    python tools/build_plugin.py --dest DIR      # write the tarball (and .prov) into DIR
    python tools/build_plugin.py --lock          # re-pin: rewrite requirements/plugin.lock's hashes

The tarball is made by real Helm 4's `helm plugin package` (HELM4, default .cache/bin/v35/helm)
from a staging directory that holds everything the plugin runs:

    postrender/
      bin/postrender-plugin      the launcher (POSIX sh): `python3 -I -S` on lib/, nothing else
      lib/postrender/            this package's source
      lib/click/, lib/ruamel/    the pure-Python dependencies, from wheels pinned in the lock file
      lib/_ruamel_yaml.cpython-3XY-{x86_64,aarch64}-linux-gnu.so
                                 ruamel.yaml.clib's C extension for every CPython and platform in
                                 TARGETS: each interpreter imports the one named by its own ABI tag
      lib/py3XY/                 a dependency pinned for some Python versions only (click for 3.9)
      lib/VENDORED.txt           which wheel (and sha256) each part came from
      licenses/<dist>/           the dependencies' licence files
      plugin.yaml                last in name order, so last in Helm's copy (see below)

Helm 4 installs a tarball by extracting it to a temporary directory and copying the files into
its plugins directory one by one, in name order; it loads a plugin only once its plugin.yaml is
there. Every other entry sorts before "plugin.yaml", so an install killed half-way leaves no
plugin that Helm would load (a leftover directory that `helm plugin install` then refuses as
existing: docs/helm.md says how to remove it).

Reproducible: the wheels are checked against the sha256 sums of requirements/plugin.lock (pip
with --require-hashes, then again here), every staged file gets the mode and mtime set here
(SOURCE_DATE_EPOCH, else the commit time of HEAD), so two builds of one commit by one user give
the same tarball byte for byte (the .prov signature carries its own time). Helm records the
builder's uid, gid and their names in the tarball, so another user gets other bytes: releases are
built as one fixed user (.github/workflows/release.yml). Downloaded wheels are kept in
.cache/plugin-wheels (git-ignored): a rebuild with all wheels there needs no network.

Signing: with HELM_SIGN_KEY and HELM_KEYRING (a secret keyring file: `gpg --export-secret-keys
KEY > secring.gpg`) set, `helm plugin package --sign` also writes the .prov; HELM_PASSPHRASE_FILE
is passed on as --passphrase-file. Helm finds the key by a part of its user id (name or e-mail);
HELM_SIGN_KEY may also be the key id or fingerprint: gpg lists the keyring's keys
(`gpg --show-keys --with-colons`, in a scratch GNUPGHOME, starting no agent) and the key's user id
is passed on. A name no key has, or one that several keys share, is refused here with the
keyring's user ids. Without HELM_SIGN_KEY and HELM_KEYRING the tarball is unsigned and this says
so (Helm 4 then refuses to install it unless told not to verify).

The tarball and .prov are written in a scratch folder and moved into --dest only once all went
well: a failed build leaves what was there before.
"""
import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Dict, Iterable, List, NamedTuple, Optional, Tuple

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements" / "plugin.lock"
CACHE = ROOT / ".cache" / "plugin-wheels"
NAME = "postrender"
PYTHONS = [(3, 9), (3, 10), (3, 11), (3, 12), (3, 13), (3, 14)]
ARCHES = ["x86_64", "aarch64"]
# glibc builds (manylinux2014 = glibc 2.17+); musl, macOS and others run ruamel's pure-Python mode.
PLATFORMS = ["manylinux2014_{arch}", "manylinux_2_17_{arch}"]
EXEC_MODE = 0o755
FILE_MODE = 0o644
FALLBACK_EPOCH = 315532800  # 1980-01-01, the earliest time a zip (a wheel) can hold


class BuildError(Exception):
    pass


class Target(NamedTuple):
    python: Tuple[int, int]
    arch: str

    @property
    def tag(self) -> str:
        return "cp%d%d" % self.python

    def __str__(self) -> str:
        return "CPython %d.%d on linux %s" % (self.python + (self.arch,))


TARGETS = [Target(py, arch) for py in PYTHONS for arch in ARCHES]


class Requirement(NamedTuple):
    name: str
    version: str
    marker: str
    hashes: Tuple[str, ...]

    @property
    def wheel_prefix(self) -> str:  # wheel file names use the normalised name with underscores
        return "%s-%s-" % (re.sub(r"[-_.]+", "_", self.name).lower(), self.version)

    def applies(self, target: Target) -> bool:
        return marker_true(self.marker, target)

    def line(self) -> str:
        return "%s==%s%s" % (self.name, self.version, " ; " + self.marker if self.marker else "")


# ---------------------------------------------------------------- the lock file

_MARKER = re.compile(r'^(python_version|platform_python_implementation)\s*(==|!=|>=|<=|<|>)\s*"([^"]*)"$')


def marker_true(marker: str, target: Target) -> bool:
    """Evaluate the few markers the lock uses (python_version, the implementation), joined by `and`."""
    if not marker:
        return True
    for clause in marker.split(" and "):
        match = _MARKER.match(clause.strip())
        if not match:
            raise BuildError("%s: unsupported marker %r (python_version or platform_python_implementation "
                             "comparisons joined by 'and')" % (LOCK.name, clause))
        var, op, value = match.groups()
        if var == "platform_python_implementation":
            have, want = "CPython", value
        else:
            have, want = target.python, tuple(int(part) for part in value.split("."))
        ok = {"==": have == want, "!=": have != want, ">=": have >= want, "<=": have <= want,
              "<": have < want, ">": have > want}[op]
        if not ok:
            return False
    return True


def read_lock(path: Path = LOCK) -> List[Requirement]:
    text = re.sub(r"\\\n", " ", path.read_text())
    reqs = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip() if not raw.lstrip().startswith("--") else raw.strip()
        if not line:
            continue
        match = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;]+)\s*(?:;\s*(.*?))?\s*"
                         r"((?:--hash=sha256:[0-9a-f]{64}\s*)*)$", line)
        if not match:
            raise BuildError("%s: cannot read %r (name==version [; marker] --hash=sha256:...)" % (path.name, line))
        name, version, marker, hashes = match.groups()
        reqs.append(Requirement(name, version, (marker or "").strip(),
                                tuple(re.findall(r"sha256:([0-9a-f]{64})", hashes))))
    return reqs


def write_lock(reqs: List[Requirement], path: Path = LOCK) -> None:
    head = [line for line in path.read_text().splitlines() if line.startswith("#")] if path.exists() else []
    out = head + [""] if head else []
    for req in reqs:
        out.append(req.line() + " \\")
        out.extend("    --hash=sha256:%s%s" % (h, " \\" if i < len(req.hashes) - 1 else "")
                   for i, h in enumerate(req.hashes))
    path.write_text("\n".join(out) + "\n")


# ---------------------------------------------------------------- wheels


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def wheel_fits(filename: str, req: Requirement, target: Target) -> bool:
    if not (filename.startswith(req.wheel_prefix) and filename.endswith(".whl")):
        return False
    parts = filename[:-4].split("-")
    if len(parts) not in (5, 6):
        return False
    pys, abis, plats = (part.split(".") for part in parts[-3:])
    return (any(py in ("py3", target.tag) for py in pys)
            and any(abi in ("none", "abi3", target.tag) for abi in abis)
            and any(plat == "any" or (plat.startswith("manylinux") and plat.endswith("_" + target.arch))
                    for plat in plats))


def cached_wheel(req: Requirement, target: Target, cache: Path) -> Optional[Path]:
    """A wheel in the cache for this target whose sha256 the lock lists (checked), or None."""
    if not cache.is_dir():
        return None
    for path in sorted(cache.iterdir()):
        if wheel_fits(path.name, req, target) and (not req.hashes or sha256(path) in req.hashes):
            return path
    return None


def pip_download(reqs: List[Requirement], target: Target, dest: Path, hashes: bool) -> None:
    """pip download the wheels of reqs for target into dest (binary only, no dependencies)."""
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as handle:
        for req in reqs:
            handle.write("%s==%s %s\n" % (req.name, req.version,
                                          " ".join("--hash=sha256:" + h for h in req.hashes) if hashes else ""))
    cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check", "--no-input",
           "--no-deps", "--only-binary=:all:", "--implementation", "cp", "--abi", target.tag,
           "--python-version", "%d.%d" % target.python, "-d", str(dest), "-r", handle.name]
    for platform in PLATFORMS:
        cmd += ["--platform", platform.format(arch=target.arch)]
    if hashes:
        cmd.append("--require-hashes")
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True)
    finally:
        os.unlink(handle.name)
    if proc.returncode != 0:
        noise = re.compile(r"^WARNING: Location .* is ignored")
        err = "\n".join(line for line in proc.stderr.splitlines() if not noise.match(line))
        raise BuildError("pip download for %s failed:\n%s" % (target, err.strip()))


def fetch(reqs: List[Requirement], cache: Path = CACHE) -> Dict[Target, List[Tuple[Requirement, Path]]]:
    """For every target: the wheel of every requirement that applies to it, hash-checked."""
    cache.mkdir(parents=True, exist_ok=True)
    chosen: Dict[Target, List[Tuple[Requirement, Path]]] = {}
    for target in TARGETS:
        wanted = [req for req in reqs if req.applies(target)]
        missing = [req for req in wanted if cached_wheel(req, target, cache) is None]
        if missing:
            print("downloading %s for %s" % (", ".join(r.name + "==" + r.version for r in missing), target),
                  file=sys.stderr)
            with tempfile.TemporaryDirectory(dir=cache) as tmp:
                pip_download(missing, target, Path(tmp), hashes=True)
                for path in Path(tmp).iterdir():
                    if any(wheel_fits(path.name, r, target) and sha256(path) in r.hashes for r in missing):
                        os.replace(path, cache / path.name)  # whole files only: a killed build leaves none half-written
        chosen[target] = []
        for req in wanted:
            path = cached_wheel(req, target, cache)
            if path is None:
                raise BuildError("no wheel of %s==%s for %s matches a hash in %s" % (req.name, req.version, target,
                                                                                  LOCK.name))
            chosen[target].append((req, path))
    return chosen


def relock(reqs: List[Requirement], cache: Path = CACHE) -> List[Requirement]:
    """Download every pinned version for every target (no hashes) and list the files' sha256."""
    found: Dict[Requirement, set] = {req: set() for req in reqs}
    cache.mkdir(parents=True, exist_ok=True)
    for target in TARGETS:
        wanted = [req for req in reqs if req.applies(target)]
        with tempfile.TemporaryDirectory(dir=cache) as tmp:
            pip_download(wanted, target, Path(tmp), hashes=False)
            for path in Path(tmp).iterdir():
                for req in wanted:
                    if wheel_fits(path.name, req, target):
                        found[req].add(sha256(path))
                        os.replace(path, cache / path.name)
        for req in wanted:
            if not any(wheel_fits(p.name, req, target) for p in cache.iterdir()):
                raise BuildError("no wheel of %s==%s for %s" % (req.name, req.version, target))
    return [req._replace(hashes=tuple(sorted(found[req]))) for req in reqs]


# ---------------------------------------------------------------- staging


def read_version() -> str:
    init = (ROOT / NAME / "__init__.py").read_text()
    version = re.search(r'^__version__ = "([^"]+)"', init, re.M).group(1)
    plugin = re.search(r"^version:\s*(\S+)", (ROOT / "plugin.yaml").read_text(), re.M).group(1)
    project = re.search(r'^version = "([^"]+)"', (ROOT / "pyproject.toml").read_text(), re.M).group(1)
    if not version == plugin == project:
        raise BuildError("versions differ: postrender/__init__.py %s, plugin.yaml %s, pyproject.toml %s"
                         % (version, plugin, project))
    return version


def source_epoch() -> int:
    if os.environ.get("SOURCE_DATE_EPOCH", "").isdigit():
        return int(os.environ["SOURCE_DATE_EPOCH"])
    proc = subprocess.run(["git", "-C", str(ROOT), "log", "-1", "--format=%ct"], capture_output=True, text=True)
    if proc.returncode == 0 and proc.stdout.strip().isdigit():
        return int(proc.stdout.strip())
    return FALLBACK_EPOCH


def extract_wheel(wheel: Path, into: Path, licenses: Path, dist: str) -> List[str]:
    """Unzip a wheel's importable files into `into`, its licence files into licenses/<dist>/."""
    written = []
    with zipfile.ZipFile(wheel) as zf:
        for info in zf.infolist():
            name = info.filename
            if info.is_dir():
                continue
            parts = name.split("/")
            if name.startswith("/") or ".." in parts or "\\" in name:
                raise BuildError("%s: unsafe member %r" % (wheel.name, name))
            if parts[0].endswith(".data"):
                raise BuildError("%s: .data members are not supported (%s)" % (wheel.name, name))
            if parts[0].endswith(".dist-info"):
                base = parts[-1]
                if "licenses" in parts[1:-1] or base.upper().startswith(("LICENSE", "LICENCE", "COPYING", "NOTICE")):
                    dest = licenses / dist / base
                else:
                    continue
            else:
                dest = into.joinpath(*parts)
            data = zf.read(info)
            if dest.exists():
                if dest.read_bytes() != data:
                    raise BuildError("%s: %s differs from the copy another wheel put there" % (wheel.name, name))
                continue
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(data)
            written.append(name)
    return written


def stage(chosen: Dict[Target, List[Tuple[Requirement, Path]]], build: Path, epoch: int) -> Path:
    top = build / NAME
    if build.exists():
        shutil.rmtree(build)
    (top / "bin").mkdir(parents=True)
    lib = top / "lib"
    shutil.copyfile(ROOT / "plugin.yaml", top / "plugin.yaml")
    shutil.copyfile(ROOT / "bin" / "postrender-plugin", top / "bin" / "postrender-plugin")
    for src in sorted((ROOT / NAME).rglob("*")):
        rel = src.relative_to(ROOT)
        if src.is_file() and "__pycache__" not in rel.parts and src.suffix in (".py", ".typed"):
            dest = lib / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dest)

    # Which Python versions each requirement serves. Of the versions pinned for one name, the one
    # serving the most Pythons goes to lib/; the others go to lib/py3X/, which the launcher puts
    # before lib/ on that Python (click 8.1.8 for 3.9: click 8.2+ needs 3.10).
    serves: Dict[Requirement, set] = {}
    for target, pairs in chosen.items():
        for req, _ in pairs:
            serves.setdefault(req, set()).add(target.python)
    main_pin = {}
    for req in sorted(serves, key=lambda r: (-len(serves[r]), r.version)):
        main_pin.setdefault(req.name.lower(), req)
    record = []
    done = set()
    for target in TARGETS:
        for req, wheel in chosen[target]:
            dirs = [lib] if main_pin[req.name.lower()] == req else [lib / ("py%d%d" % py) for py in sorted(serves[req])]
            for into in dirs:
                if (wheel, into) in done:
                    continue
                done.add((wheel, into))
                extract_wheel(wheel, into, top / "licenses", "%s-%s" % (req.name, req.version))
                record.append("%s  sha256:%s  -> %s" % (wheel.name, sha256(wheel), into.relative_to(top)))
    (lib / "VENDORED.txt").write_text(
        "Vendored by tools/build_plugin.py from the wheels pinned in requirements/plugin.lock\n"
        "(dist-info dropped; licence files under licenses/):\n\n" + "\n".join(sorted(record)) + "\n")

    # Helm copies an installed tarball in name order; plugin.yaml must come last (see the docstring).
    late = [p.name for p in top.iterdir() if p.name != "plugin.yaml" and p.name > "plugin.yaml"]
    if late:
        raise BuildError("these sort after plugin.yaml and would be copied after it: %s" % late)
    for path in sorted(top.rglob("*"), reverse=True) + [top]:
        if "__pycache__" in path.parts:
            raise BuildError("unexpected %s" % path)
        executable = path.is_dir() or path == top / "bin" / "postrender-plugin" or path.suffix == ".so"
        os.chmod(path, EXEC_MODE if executable else FILE_MODE)
        os.utime(path, (epoch, epoch), follow_symlinks=False)
    return top


# ---------------------------------------------------------------- signing

_KEY_ID = re.compile(r"(?:0x)?([0-9A-Fa-f]{8}|[0-9A-Fa-f]{16}|[0-9A-Fa-f]{40}|[0-9A-Fa-f]{64})")


class Key(NamedTuple):
    fingerprints: Tuple[str, ...]  # the primary key's first, then its subkeys'
    uids: Tuple[str, ...]


def keyring_keys(keyring: str) -> Optional[List[Key]]:
    """The keys in a keyring file as gpg lists them (nothing imported: a scratch GNUPGHOME), or
    None when gpg is not installed."""
    if not shutil.which("gpg"):
        return None
    if not os.path.isfile(keyring):
        raise BuildError("HELM_KEYRING=%s: no such file" % keyring)
    with tempfile.TemporaryDirectory(prefix="postrender-gpg-") as home:
        proc = subprocess.run(["gpg", "--batch", "--no-tty", "--no-autostart", "--with-colons", "--fixed-list-mode",
                               "--show-keys", keyring], capture_output=True, text=True, stdin=subprocess.DEVNULL,
                              env=dict(os.environ, GNUPGHOME=home))
    if proc.returncode != 0:
        raise BuildError("gpg cannot read HELM_KEYRING=%s:\n%s" % (keyring, proc.stderr.strip()))
    keys: List[Key] = []
    for line in proc.stdout.splitlines():
        fields = line.split(":")
        if fields[0] in ("sec", "pub"):
            keys.append(Key((), ()))
        elif keys and fields[0] == "fpr" and len(fields) > 9:
            keys[-1] = keys[-1]._replace(fingerprints=keys[-1].fingerprints + (fields[9].upper(),))
        elif keys and fields[0] == "uid" and len(fields) > 9:
            uid = re.sub(r"\\x([0-9a-fA-F]{2})", lambda m: chr(int(m.group(1), 16)), fields[9])
            keys[-1] = keys[-1]._replace(uids=keys[-1].uids + (uid,))
    return keys


def signing_identity(key: str, keyring: str) -> str:
    """What to pass Helm as --key: Helm takes the one key with a user id containing it, so a key id
    or fingerprint becomes that key's user id; a name is checked against the keyring."""
    keys = keyring_keys(keyring)
    hex_id = _KEY_ID.fullmatch(key.strip())
    if keys is None:
        if hex_id:
            raise BuildError("HELM_SIGN_KEY=%s looks like a key id: gpg is needed to find its user id (Debian: "
                             "apt-get install gnupg), or give the key's name or e-mail" % key)
        return key  # Helm matches the name itself
    listing = "; ".join("%s (%s)" % (", ".join(k.uids) or "no user id", k.fingerprints[0] if k.fingerprints else "?")
                        for k in keys) or "none"
    found = [k for k in keys if any(f.endswith(hex_id.group(1).upper()) for f in k.fingerprints)] if hex_id else []
    if found and not found[0].uids:
        raise BuildError("HELM_SIGN_KEY=%s: that key has no user id, which Helm needs to find it" % key)
    identity = found[0].uids[0] if found else key
    holders = [k for k in keys if any(identity in uid for uid in k.uids)]
    if not holders:
        raise BuildError("HELM_SIGN_KEY=%r: no key in HELM_KEYRING=%s has a user id containing it, nor that id "
                         "or fingerprint (its keys: %s)" % (key, keyring, listing))
    if len(holders) > 1:
        raise BuildError("HELM_SIGN_KEY=%r: the user ids of several keys in HELM_KEYRING=%s contain %r, and Helm "
                         "refuses to choose (its keys: %s): give more of the user id, or export only the one key"
                         % (key, keyring, identity, listing))
    return identity


# ---------------------------------------------------------------- packaging


def helm_binary(arg: Optional[str]) -> str:
    helm = arg or os.environ.get("HELM4") or str(ROOT / ".cache" / "bin" / "v35" / "helm")
    if not (os.path.isfile(helm) and os.access(helm, os.X_OK)):
        raise BuildError("Helm 4 not found at %s: run `make helm4` (or `make tools`), or set HELM4 / --helm" % helm)
    return helm


def signing_args() -> Tuple[List[str], Optional[str]]:
    """helm plugin package's signing flags, and the identity it signs as (None: unsigned)."""
    key, keyring = os.environ.get("HELM_SIGN_KEY", ""), os.environ.get("HELM_KEYRING", "")
    if not (key and keyring):
        if key or keyring:
            raise BuildError("set both HELM_SIGN_KEY (the key's id, fingerprint, name or e-mail) and HELM_KEYRING "
                             "(a secret keyring file), or neither")
        return ["--sign=false"], None
    identity = signing_identity(key, keyring)
    args = ["--sign", "--key", identity, "--keyring", keyring]
    if os.environ.get("HELM_PASSPHRASE_FILE"):
        args += ["--passphrase-file", os.environ["HELM_PASSPHRASE_FILE"]]
    return args, identity


def package(helm: str, top: Path, dest: Path, version: str, sign: List[str],
            identity: Optional[str]) -> Tuple[Path, Optional[Path]]:
    """helm plugin package into a scratch folder in dest, then the results moved over the old ones."""
    dest.mkdir(parents=True, exist_ok=True)
    name = "%s-%s.tgz" % (NAME, version)
    tgz, prov = dest / name, dest / (name + ".prov")
    with tempfile.TemporaryDirectory(prefix=".build-", dir=dest) as scratch:
        cmd = [helm, "plugin", "package", str(top), "--destination", scratch] + sign
        proc = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL)
        new_tgz, new_prov = Path(scratch) / name, Path(scratch) / (name + ".prov")
        if proc.returncode != 0 or not new_tgz.is_file():
            raise BuildError("`%s` failed:\n%s%s" % (" ".join(cmd), proc.stdout, proc.stderr))
        if identity and not new_prov.is_file():
            raise BuildError("helm signed nothing: no %s" % new_prov.name)
        os.replace(new_tgz, tgz)
        if identity:
            os.replace(new_prov, prov)
        elif prov.exists():
            prov.unlink()  # an older signature would not match the new tarball
    return tgz, (prov if identity else None)


def build(dest: Path, helm: Optional[str] = None, build_dir: Optional[Path] = None,
          cache: Path = CACHE) -> Tuple[Path, Optional[Path], Optional[str]]:
    """The tarball, its .prov (None: unsigned) and the user id it was signed as."""
    version = read_version()
    helm = helm_binary(helm)
    sign, identity = signing_args()  # a wrong key or keyring fails before anything is downloaded
    reqs = read_lock()
    unpinned = [r.name for r in reqs if not r.hashes]
    if unpinned:
        raise BuildError("%s lists no hash for %s: run `python tools/build_plugin.py --lock`" % (LOCK.name, unpinned))
    chosen = fetch(reqs, cache)
    with tempfile.TemporaryDirectory(prefix="postrender-plugin-") as tmp:
        top = stage(chosen, build_dir or Path(tmp) / "stage", source_epoch())
        return package(helm, top, dest, version, sign, identity) + (identity,)


def main(argv: Optional[Iterable[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dest", type=Path, default=ROOT / "dist", help="where to write the tarball (default dist/)")
    parser.add_argument("--helm", help="Helm 4 binary (default $HELM4 or .cache/bin/v35/helm)")
    parser.add_argument("--stage", type=Path, help="keep the staging directory here (it is emptied first)")
    parser.add_argument("--lock", action="store_true", help="rewrite the hashes of requirements/plugin.lock")
    args = parser.parse_args(list(argv) if argv is not None else None)
    try:
        if args.lock:
            write_lock(relock(read_lock()))
            print("wrote %s" % LOCK.relative_to(ROOT))
            return 0
        tgz, prov, identity = build(args.dest, args.helm, args.stage)
    except BuildError as exc:
        print("build_plugin: error: %s" % exc, file=sys.stderr)
        return 1
    print("%s  %d bytes  sha256:%s" % (tgz, tgz.stat().st_size, sha256(tgz)))
    if prov:
        print("%s  (signed with %r)" % (prov, identity))
    else:
        print("UNSIGNED: no .prov written (set HELM_SIGN_KEY and HELM_KEYRING to sign). "
              "`helm plugin install` verifies by default and will refuse this tarball.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
