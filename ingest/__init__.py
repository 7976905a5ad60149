"""The ingest use case: claimed inbox files read, judged, merged and returned, one batch at a time."""
