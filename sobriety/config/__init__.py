"""Configuration: strict models, loading with file/entry/field problems, secrets."""
