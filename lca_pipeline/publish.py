"""Restore the work database from the published version, and publish the next one atomically.

A published version is an immutable file under `versions/`; the published path is a hard link to
the newest one, swapped in by `os.replace`. Readers that opened the old file keep reading it (their
descriptor points at the old inode); new connections see the new version. A refresh killed at any
moment leaves the published path as it was, because nothing is renamed onto it until the end.
"""

from __future__ import annotations

import logging
import os
import shutil
from datetime import datetime, timezone
from pathlib import Path

log = logging.getLogger("lca.publish")


def versions_dir(published: Path) -> Path:
    return published.parent / "versions"


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_file(path: Path) -> None:
    with open(path, "rb+") as f:
        os.fsync(f.fileno())


def quarantine_stale_wal(published: Path) -> Path | None:
    """A `.wal` beside the published file belongs to no published version (published files are
    checkpointed and read-only): a crash of an old writer left it. Move it aside, never replay it."""
    wal = Path(f"{published}.wal")
    if not wal.exists():
        return None
    versions_dir(published).mkdir(parents=True, exist_ok=True)
    aside = versions_dir(published) / f"stale-{datetime.now(timezone.utc):%Y%m%dT%H%M%S%f}.wal"
    os.replace(wal, aside)
    log.warning("moved a stale write-ahead log %s aside to %s", wal, aside)
    return aside


def restore_work(published: Path, work: Path) -> bool:
    """Start the work database from the published version (or empty); True if one was copied.

    Whatever a failed or killed refresh left in the work area is discarded here."""
    work.parent.mkdir(parents=True, exist_ok=True)
    for leftover in (work, Path(f"{work}.wal"), Path(f"{work}.tmp")):
        leftover.unlink(missing_ok=True)
    quarantine_stale_wal(published)
    if not published.is_file():
        return False
    tmp = Path(f"{work}.tmp")
    shutil.copyfile(published, tmp)
    os.replace(tmp, work)
    return True


def publish(published: Path, work: Path, extras: dict[str, Path], keep: int) -> str:
    """Move the finished work database into `versions/` and swap it in as the published one.

    `extras` maps a published sibling (e.g. report.html) to the work-area file that replaces it.
    The work database must be checkpointed and closed. Returns the version name."""
    vdir = versions_dir(published)
    vdir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    version = f"{published.stem}-{stamp}"
    target = vdir / f"{version}{published.suffix}"
    if Path(f"{work}.wal").exists():
        raise RuntimeError(f"{work}.wal still exists: the work database was not checkpointed")
    _fsync_file(work)
    os.replace(work, target)
    swaps = [(published, target)]
    for dest, src in sorted(extras.items()):
        kept = vdir / f"{version}.{Path(dest).name}"
        _fsync_file(src)
        os.replace(src, kept)
        swaps.append((Path(dest), kept))
    _fsync_dir(vdir)
    quarantine_stale_wal(published)
    # The database last: until it is swapped, readers see the previous version, whole.
    for dest, src in reversed(swaps):
        tmp = dest.with_name(f".{dest.name}.{stamp}.tmp")
        os.link(src, tmp)
        os.replace(tmp, dest)
    _fsync_dir(published.parent)
    prune(published, keep)
    return version


def published_versions(published: Path) -> list[Path]:
    """Published database versions, oldest first."""
    vdir = versions_dir(published)
    if not vdir.is_dir():
        return []
    return sorted(vdir.glob(f"{published.stem}-*{published.suffix}"))


def prune(published: Path, keep: int) -> list[Path]:
    """Delete all but the newest `keep` versions (open readers keep their file until they close)."""
    gone = []
    versions = published_versions(published)
    for old in versions[: max(0, len(versions) - max(keep, 1))]:
        version = old.name[: -len(published.suffix)] if published.suffix else old.name
        for f in [old, *old.parent.glob(f"{version}.*")]:
            f.unlink(missing_ok=True)
        gone.append(old)
    return gone
