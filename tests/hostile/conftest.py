"""The e2e fixtures (stand-in + real bot process) serve these tests too."""

from tests.e2e.conftest import harness, shared_harness

__all__ = ["harness", "shared_harness"]
