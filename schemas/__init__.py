"""The submission contract in code: Pandera models per sheet, reference data, rule messages, templates."""
