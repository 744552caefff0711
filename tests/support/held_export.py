"""A stand-in for the export's child-process work, driven by the test through files.

:class:`bot.composition.exports.ChildExports` takes the function its child runs; tests give
it :func:`gated_build`, which runs in the real child process (imported there by name) and
does what ``<gate>/mode`` says, ``<gate>`` being the directory named by the environment
variable :data:`GATE_ENV` (a spawned child inherits the environment):

* ``pass``: the real build (:func:`bot.usecases.exporting.build_in_this_process`);
* ``hold``: read the export on its own snapshot, write its pid to ``<gate>/reading``, then
  keep the snapshot open until ``<gate>/release`` exists, and finish the real file;
* ``fail``: write the pid to ``<gate>/reading`` and raise an error whose message quotes
  customer data (which the bot's log must not repeat).
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from bot.usecases.exporting import (
    ExportFile,
    ExportRequest,
    build_in_this_process,
    read_export,
    write_export,
)
from storage.snapshot import read_only_snapshot

GATE_ENV = "NPSBOT_TEST_EXPORT_GATE"
#: What the failing mode's error says: the log must not carry it.
CUSTOMER_DATA = "customer cust-secret-42 wrote: call me at 555-0100"


def gated_build(request: ExportRequest) -> ExportFile:
    """The child's work as ``<gate>/mode`` says (see the module docstring)."""
    gate = Path(os.environ[GATE_ENV])
    mode = (gate / "mode").read_text().strip()
    if mode == "pass":
        return build_in_this_process(request)
    if mode == "fail":
        (gate / "reading").write_text(str(os.getpid()))
        raise ValueError(CUSTOMER_DATA)
    return asyncio.run(_held(request, gate))


async def _held(request: ExportRequest, gate: Path) -> ExportFile:
    async with read_only_snapshot(request.target) as tx:
        records, found = await read_export(tx, request)
        (gate / "reading").write_text(str(os.getpid()))
        # Waiting for the test's positive signal, the snapshot open meanwhile (a file:
        # the test is another process, which no asyncio.Event reaches).
        while not (gate / "release").exists():  # noqa: ASYNC110
            await asyncio.sleep(0.01)
    return write_export(request, records, found)
