"""Generators behind `make docs`: the README metric table and docs/profiles.md."""
