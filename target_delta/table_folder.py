"""A table's folder, local or in an object store, for data files written before their commit.

Local folders are plain paths (a file is moved in by a rename). Remote ones (``s3://`` ...) go
through delta-rs' own filesystem (``deltalake.fs.DeltaStorageHandler``), so the target's storage
options and credentials apply unchanged and no second storage client is configured.
"""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq
from deltalake.fs import DeltaStorageHandler

from rest_api_core.local_files import local_path


class TableFolder:
    """Where a table's data files go, by their path relative to the table's root."""

    def __init__(self, uri: str, storage_options: dict[str, str] | None = None) -> None:
        self.uri = uri
        self.storage_options = storage_options or None
        self.local: Path | None = local_path(uri)
        """The folder on this machine; None for an object store."""
        if self.local is not None:
            self.filesystem: pafs.FileSystem = pafs.LocalFileSystem()
        else:
            self.filesystem = pafs.PyFileSystem(
                DeltaStorageHandler(uri.rstrip("/"), self.storage_options))
        self._made = False

    def path(self, name: str) -> str:
        """``name`` as the filesystem's path."""
        return str(self.local / name) if self.local is not None else name

    def write(self, name: str, data: pa.Table) -> None:
        """Write ``data`` as the Parquet file ``name``."""
        self._make_parent(name)
        pq.write_table(data, self.path(name), filesystem=self.filesystem)

    def parquet_writer(self, name: str, schema: pa.Schema) -> pq.ParquetWriter:
        """A writer of the Parquet file ``name`` batch by batch, for rows that arrive as a
        stream (a Spark task's)."""
        self._make_parent(name)
        return pq.ParquetWriter(self.path(name), schema, filesystem=self.filesystem)

    def names(self, folder: str = "", *, recursive: bool = False) -> list[str]:
        """The files in ``folder`` (relative to the root; with ``recursive``, in its folders
        too), by their names relative to the root; none when the folder does not exist."""
        if self.local is not None:
            base = self.local / folder
            found = base.rglob("*") if recursive else base.glob("*")
            return [p.relative_to(self.local).as_posix() for p in found if p.is_file()]
        selector = pafs.FileSelector(folder, allow_not_found=True, recursive=recursive)
        return [info.path for info in self.filesystem.get_file_info(selector)
                if info.type == pafs.FileType.File]

    def put(self, source: Path, name: str, *, keep_source: bool) -> None:
        """Bring the local file ``source`` in as ``name``: renamed (copied with
        ``keep_source``) into a local folder, uploaded to a remote one."""
        self._make_parent(name)
        if self.local is None:
            pafs.copy_files(str(source), name, source_filesystem=pafs.LocalFileSystem(),
                            destination_filesystem=self.filesystem)
            if not keep_source:
                source.unlink()
        elif keep_source:
            shutil.copyfile(source, self.local / name)
        else:
            shutil.move(source, self.local / name)

    def metadata(self, name: str) -> pq.FileMetaData:
        """The Parquet footer of ``name``."""
        return pq.read_metadata(self.path(name), filesystem=self.filesystem)

    def read(self, name: str) -> pq.ParquetFile:
        """``name`` opened for reading batch by batch."""
        return pq.ParquetFile(self.filesystem.open_input_file(self.path(name)))

    def size_and_time(self, name: str) -> tuple[int, int]:
        """Size in bytes and modification time in milliseconds, for an add action."""
        info = self.filesystem.get_file_info(self.path(name))
        assert info.size is not None and info.mtime is not None
        return info.size, int(info.mtime.timestamp() * 1000)

    def delete(self, name: str) -> None:
        """Delete ``name`` if it is there (and, locally, the folders it leaves empty)."""
        if self.local is None:
            with contextlib.suppress(FileNotFoundError):
                self.filesystem.delete_file(name)
            return
        path = self.local / name
        path.unlink(missing_ok=True)
        for parent in Path(name).parents[:-1]:
            with contextlib.suppress(OSError):  # a partition folder others also use
                (self.local / parent).rmdir()

    def move_to(self, other: TableFolder, name: str) -> None:
        """Move ``name`` to the same place under ``other``."""
        if self.local is not None and other.local is not None:
            other._make_parent(name)
            shutil.move(self.local / name, other.local / name)
            return
        other._make_parent(name)
        pafs.copy_files(self.path(name), other.path(name), source_filesystem=self.filesystem,
                        destination_filesystem=other.filesystem)
        self.delete(name)

    def keep(self) -> None:
        """The folder now holds a table: never remove it as made by this run."""
        self._made = False

    def remove_if_made(self) -> None:
        """Remove the local folder if this run made it and it is empty again."""
        if self._made and self.local is not None:
            self._made = False
            with contextlib.suppress(OSError):  # not empty: a table or other files live there
                self.local.rmdir()

    def _make_parent(self, name: str) -> None:
        if self.local is None:
            return  # object stores have no folders
        if not self.local.exists():
            self.local.mkdir(parents=True)
            self._made = True
        (self.local / name).parent.mkdir(parents=True, exist_ok=True)
