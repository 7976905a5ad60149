"""Backup and restore of a data directory: one archive with a manifest, written while the service runs,
restored into an empty directory anywhere (see README, "Backup and restore")."""
