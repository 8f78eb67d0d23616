"""Prefect tasks: each one logical step or side effect of the monthly refresh."""
