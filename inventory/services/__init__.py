"""Inventory services: every write to parts and stock goes through these functions."""
