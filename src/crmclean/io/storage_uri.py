"""A location only Spark reads and writes: a URI of a Hadoop file system (`file://`, `hdfs://`,
`s3a://`, `abfss://`, `gs://` ...). crmclean hands it to the Spark session unchanged; which of
them work is the cluster's configuration (its connectors and credentials), not crmclean's."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

# The file systems Hadoop and the clouds' Spark distributions ship connectors for.
SCHEMES = frozenset(
    {
        "file", "hdfs", "webhdfs", "viewfs", "s3a", "s3", "s3n", "gs", "abfs", "abfss",
        "wasb", "wasbs", "adl", "dbfs", "oss", "cosn", "obs",
    }
)  # fmt: skip
_URI = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


@dataclass(frozen=True)
class StorageUri:
    """`text` as given (passed to Spark unchanged)."""

    text: str

    @property
    def shown(self) -> str:
        """As messages show it: without a user name or password before the host."""
        return re.sub(r"^([^:]+://)[^/@]*@", r"\1", self.text)

    def child(self, name: str) -> StorageUri:
        """The file `name` inside this folder."""
        return StorageUri(self.text.rstrip("/") + "/" + name)

    def __str__(self) -> str:
        return self.shown


def storage_uri(text: str) -> StorageUri | None:
    """`text` as a StorageUri when it names a Hadoop file system's scheme, else None."""
    found = _URI.match(text)
    if found is None or found.group(1).lower() not in SCHEMES:
        return None
    return StorageUri(text)


def uri_as_path(path: Path) -> bool:
    """True when `path` is a URI an option typed as a path took in (`s3a://b/x` became
    `s3a:/b/x`): a command that writes only local folders refuses it rather than create a
    folder named `s3a:`."""
    found = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*):/", str(path))
    return found is not None and found.group(1).lower() in SCHEMES
