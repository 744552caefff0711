"""The demo's entry point: check the arguments, run the scenario in a temporary directory,
and keep that directory only when something went wrong."""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from standin.demo.errors import DemoError
from standin.demo.scenario import demo_in


async def run_demo(customers: int = 40, seed: int = 7) -> int:
    """Run the offline demo; 0 on success, 1 if anything went wrong (reported on stderr)."""
    if customers < 1:
        print("npsbot demo: --customers must be at least 1", file=sys.stderr)
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="npsbot-demo-"))
    ok = False
    try:
        ok = await demo_in(tmp, customers, seed)
    except DemoError as exc:
        print(f"\nDEMO FAILED: {exc}\n(files kept in {tmp})", file=sys.stderr)
    finally:
        if ok:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0 if ok else 1
