"""One concern: ConfigMap keys with a number each, in a few bytes per key however long the names: the
ConfigMaps seen, each with the document it was first seen in (`FirstSeen`, in `ledger.ConfigMapsSeen`),
and the ConfigMaps awaited, each by the numbers of the workloads that wait for it (`Awaited`, in
`waiting.Waits`). A stream may hold millions of either.

A key stands for itself as 16 bytes of its SHA-256 digest. Two different keys would be taken for one
only if their digests collided: with n keys, a chance of about n² / 2^129 (10^-20 for a billion keys),
and finding such a pair on purpose takes about 2^64 hashes. Each (key, number) is a record of 24 bytes
(the digest and the number) in one of a few buckets, a bytearray each that `bytearray.find` scans; the
buckets double in number as records come, so that each holds a few dozen.
"""
from __future__ import annotations

from typing import Any, Iterator, List, Optional, Tuple

Ref = Tuple[Optional[str], str]  # (namespace, name): ledger.ConfigMapKey

DIGEST = 16  # bytes of the key's SHA-256 kept
RECORD = DIGEST + 8  # the digest and the number (8 bytes, little-endian)
PER_BUCKET = 64  # records per bucket, on average, before the buckets double (a bucket of 1-1.5 KB: fewer
# and larger buffers than with 32 come to a quarter less resident memory, measured at millions of keys)

_sha256: Any = None


def digest(ref: Ref) -> bytes:
    """The key's digest: its namespace (None and "" differ) and its name, unambiguously."""
    namespace, name = ref
    if namespace is None:
        data = b"-" + name.encode("utf-8", "surrogatepass")
    else:
        space = namespace.encode("utf-8", "surrogatepass")
        data = b"+%d:" % len(space) + space + name.encode("utf-8", "surrogatepass")
    return (_sha256 or _load())(data).digest()[:DIGEST]


def sha256_hex(data: bytes) -> str:
    """SHA-256 of `data`, in hex (the pod template's roll annotation), from the same module."""
    return (_sha256 or _load())(data).hexdigest()


def _load() -> Any:
    """CPython's own SHA-256 (`_sha2`, `_sha256` before 3.12): hashlib would load OpenSSL,
    milliseconds of every start-up, for hashes of a few KB."""
    global _sha256
    try:
        from _sha2 import sha256  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        try:
            from _sha256 import sha256  # type: ignore[import-not-found,no-redef,unused-ignore]
        except ImportError:  # pragma: no cover - a build without them: OpenSSL's
            from hashlib import sha256  # type: ignore[assignment,no-redef,unused-ignore]
    _sha256 = sha256
    return sha256


def _find(bucket: bytearray, key: bytes, start: int = 0) -> int:
    """Where the next record of `key` from `start` on begins in `bucket`, or -1 (a match must start
    on a record: one that does not is as likely as a collision, yet looked past)."""
    at = bucket.find(key, start)
    while at >= 0 and at % RECORD:
        at = bucket.find(key, at + 1)
    return at


def _number(bucket: bytearray, at: int) -> int:
    return int.from_bytes(bucket[at + DIGEST:at + RECORD], "little")


class _Records:
    """(digest, number) records in buckets (picklable: a forked process sends one)."""

    def __init__(self) -> None:
        self.buckets: List[bytearray] = [bytearray()]
        self.mask = 0  # len(buckets) - 1: a key's bucket is its digest's low bits (little-endian)
        self.count = 0

    def __len__(self) -> int:
        return self.count

    def records(self) -> Iterator[Tuple[bytes, int]]:
        """(digest, number) of every record, in no particular order."""
        for bucket in self.buckets:
            for at in range(0, len(bucket), RECORD):
                yield bytes(bucket[at:at + DIGEST]), _number(bucket, at)

    def _bucket(self, key: bytes) -> bytearray:
        return self.buckets[int.from_bytes(key, "little") & self.mask]

    def _append(self, bucket: bytearray, key: bytes, number: int) -> None:
        bucket += key + number.to_bytes(8, "little")
        self.count += 1
        if self.count > PER_BUCKET * len(self.buckets):
            self._double()

    def _double(self) -> None:
        """Twice the buckets: each splits on one more bit of its digests, one bucket at a time (memory
        stays flat); the records of a key keep their order."""
        size = len(self.buckets)
        byte, bit = divmod(size.bit_length() - 1, 8)
        highs = []
        for index, old in enumerate(self.buckets):
            low, high = bytearray(), bytearray()
            for at in range(0, len(old), RECORD):
                (high if old[at + byte] >> bit & 1 else low).extend(old[at:at + RECORD])
            self.buckets[index] = low
            highs.append(high)
        self.buckets += highs
        self.mask = 2 * size - 1


class FirstSeen(_Records):
    """Keys, each with the number it was first added with: `add` keeps the first number, `pop`
    forgets a key; `records` and `add_digest` copy them into another."""

    def __contains__(self, ref: Ref) -> bool:
        key = digest(ref)
        return _find(self._bucket(key), key) >= 0

    def add(self, ref: Ref, number: int) -> None:
        """Note `ref` with `number`, unless it is noted already (it keeps its first number)."""
        self.add_digest(digest(ref), number)

    def add_digest(self, key: bytes, number: int) -> None:
        """`add` for a key known by its digest (another FirstSeen's `records`)."""
        bucket = self._bucket(key)
        if _find(bucket, key) < 0:
            self._append(bucket, key, number)

    def pop(self, ref: Ref) -> Optional[int]:
        """Forget `ref`: its number, or None when it was not noted."""
        key = digest(ref)
        bucket = self._bucket(key)
        at = _find(bucket, key)
        if at < 0:
            return None
        number = _number(bucket, at)
        del bucket[at:at + RECORD]
        self.count -= 1
        return number


class Awaited(_Records):
    """Keys, each with the numbers it was added with (in the order they came): `take` them all."""

    def add(self, key: bytes, number: int) -> None:
        """Note that `number` awaits the key whose digest is `key`."""
        self._append(self._bucket(key), key, number)

    def take(self, key: bytes) -> List[int]:
        """The numbers that await the key whose digest is `key`, in the order they came; forgotten."""
        bucket = self._bucket(key)
        numbers = []
        at = _find(bucket, key)
        while at >= 0:
            numbers.append(_number(bucket, at))
            del bucket[at:at + RECORD]
            at = _find(bucket, key, at)
        self.count -= len(numbers)
        return numbers
