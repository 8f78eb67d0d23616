"""The test suite (a package, so that conftest has one module name: tests.conftest)."""
