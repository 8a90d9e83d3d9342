"""Spreadsheet import and export (docs/importing.md): files, writers, resources, engine."""
