"""The authors' released weights as downloaded: ``ws.zip`` of the fylwen/HTT release ``assets-v1``.

The archive holds ``ckpts/<experiment>/`` folders of ``torch.save`` checkpoints (one experiment
per data set, e.g. ``ckpts/htt_fpha/checkpoint_45.pth``) next to ``curves/*.npz``, possibly under
a top-level ``ws/``. A checkpoint is picked by the data set its head shapes say it is for, so
the folder names are never trusted. A torch checkpoint file is itself a zip archive; it is told
apart by the ``data.pkl`` every torch zip file holds.
"""

from __future__ import annotations

import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from htt_ros.model.checkpoint import CheckpointError, load_checkpoint

CHECKPOINT_SUFFIXES = (".pth", ".pt", ".pth.tar")


@dataclass(frozen=True)
class ArchivedCheckpoint:
    """A checkpoint taken out of a release archive: where it was, where it is now, what it is."""

    member: str
    path: Path
    dataset: str
    epoch: int | None


def is_release_archive(path: str | Path) -> bool:
    """Whether ``path`` is a zip archive of checkpoints rather than a checkpoint file."""
    path = Path(path)
    if not path.is_file() or not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as archive:
        return not any(PurePosixPath(name).name == "data.pkl" for name in archive.namelist())


def checkpoint_members(archive: zipfile.ZipFile) -> list[str]:
    """The archive's checkpoint files, sorted by name."""
    return sorted(
        name
        for name in archive.namelist()
        if name.endswith(CHECKPOINT_SUFFIXES) and not name.endswith("/")
    )


def extract_checkpoint(
    archive_path: str | Path,
    workdir: str | Path,
    *,
    dataset: str | None = None,
    member: str | None = None,
    trust_pickle: bool = False,
) -> ArchivedCheckpoint:
    """Copy one checkpoint of the archive into ``workdir`` and say which data set it is for.

    ``member`` names the file inside the archive; otherwise the checkpoint is the one for
    ``dataset``, or the only data set the archive has checkpoints for. Of several checkpoints
    for that data set the one of the latest epoch is taken. Raises :class:`CheckpointError`
    naming the archive's checkpoints and the ``--dataset`` or ``--member`` to pass.
    """
    archive_path, workdir = Path(archive_path), Path(workdir)
    with zipfile.ZipFile(archive_path) as archive:
        members = checkpoint_members(archive)
        if member is not None:
            if member not in members:
                raise CheckpointError(
                    f"{archive_path} has no checkpoint {member!r}; it has {members or 'none'}"
                )
            members = [member]
        if not members:
            raise CheckpointError(
                f"{archive_path} holds no checkpoint ({'/'.join(CHECKPOINT_SUFFIXES)} files); "
                f"give the authors' ws.zip (release assets-v1 of github fylwen/HTT) or a "
                f"checkpoint file"
            )
        found = [_take_out(archive, name, workdir, trust_pickle) for name in members]
    by_dataset: dict[str, list[ArchivedCheckpoint]] = {}
    for checkpoint in found:
        by_dataset.setdefault(checkpoint.dataset, []).append(checkpoint)
    if dataset is None and len(by_dataset) > 1:
        listing = "; ".join(
            f"{name}: {', '.join(c.member for c in items)}" for name, items in by_dataset.items()
        )
        options = " or ".join(f"--dataset {name}" for name in by_dataset)
        raise CheckpointError(
            f"{archive_path} holds checkpoints for {len(by_dataset)} data sets ({listing}); "
            f"pass {options} to pick one"
        )
    chosen = by_dataset.get(dataset) if dataset is not None else next(iter(by_dataset.values()))
    if not chosen:
        have = ", ".join(f"{name} ({items[0].member})" for name, items in by_dataset.items())
        raise CheckpointError(
            f"{archive_path} holds no {dataset} checkpoint, only {have}; pass that --dataset "
            f"or give an archive with a {dataset} checkpoint"
        )
    best = max(chosen, key=lambda c: (c.epoch if c.epoch is not None else -1, c.member))
    for checkpoint in found:
        if checkpoint is not best:
            checkpoint.path.unlink()
    return best


def _take_out(
    archive: zipfile.ZipFile, member: str, workdir: Path, trust_pickle: bool
) -> ArchivedCheckpoint:
    """Copy ``member`` to its own folder of ``workdir`` (keeping its file name) and read it."""
    target = workdir / f"member_{len(list(workdir.iterdir()))}" / PurePosixPath(member).name
    target.parent.mkdir(parents=True)
    with archive.open(member) as source, target.open("wb") as out:
        shutil.copyfileobj(source, out, 1 << 20)
    try:
        loaded = load_checkpoint(target, trust_pickle=trust_pickle)
    except CheckpointError as err:
        raise CheckpointError(f"{archive.filename}: {member}: {err}") from None
    if loaded.labels is None:
        raise CheckpointError(
            f"{archive.filename}: {member} is for no built-in data set; unzip it and export "
            f"the file with --labels FILE"
        )
    return ArchivedCheckpoint(member, target, loaded.labels.name, loaded.epoch)
