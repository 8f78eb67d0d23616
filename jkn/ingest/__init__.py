"""Receiving, reading, validating and staging the agencies' extracts (library layer)."""
