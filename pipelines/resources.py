"""Resources: where the data directory is, and the settings a data office may tune."""


from pathlib import Path

import dagster as dg

from diaodu.warehouse.store import Warehouse


class DiaoduSettings(dg.ConfigurableResource):
    """The data directory (inbox/, outbox/, warehouse.duckdb) and the tunable rules."""

    data_dir: str = "data"
    max_file_mb: int = 20
    yellow_workdays: int = 3
    settle_seconds: float = 2.0  # a file younger than this may still be being written
    backup_dir: str = ""  # where the nightly backup writes; empty: <data_dir>/backups
    backup_keep: int = 14  # the nightly backups kept, newest first

    @property
    def root(self) -> Path:
        return Path(self.data_dir).resolve()

    @property
    def inbox(self) -> Path:
        return self.root / "inbox"

    @property
    def outbox(self) -> Path:
        return self.root / "outbox"

    @property
    def backups(self) -> Path:
        return Path(self.backup_dir).resolve() if self.backup_dir else self.root / "backups"

    @property
    def max_file_bytes(self) -> int:
        return self.max_file_mb * 1024 * 1024

    def warehouse(self) -> Warehouse:
        return Warehouse(self.root)
