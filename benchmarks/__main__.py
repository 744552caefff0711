"""Run every benchmark in one go: ``python -m benchmarks [--quick]``.

Each prints its table and writes its figures to benchmarks/results/<name>.json. ``--quick``
runs smaller sizes (a smoke test, not the recorded figures).
"""

from __future__ import annotations

import argparse

from benchmarks import (
    answers,
    dispatch,
    document_upload,
    engines,
    flood,
    reports,
    reports_under_load,
    scaling,
    themes,
)


def main() -> None:
    """Dispatch, answers, flood, reports, reports under load, document upload, themes,
    engines, scaling: in that order, in one run on one machine."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, a smoke test")
    args = parser.parse_args()
    if args.quick:
        dispatch.main(["--surveys", "500", "--limit", "100"])
        answers.main(["--customers", "500", "--cpu-customers", "200", "--paced", "100"])
        flood.main(["--quick"])
        reports.main(["--answers", "20000", "--runs", "2"])
        reports_under_load.main(["--quick"])
        document_upload.main(["-n", "2"])
        themes.main(["--comments", "5000", "--singles", "200"])
        engines.main(["--operations", "100", "--rounds", "1"])
        scaling.main(["--quick"])
    else:
        dispatch.main([])
        answers.main([])
        flood.main([])
        reports.main([])
        reports_under_load.main([])
        document_upload.main([])
        themes.main([])
        engines.main([])
        scaling.main([])


if __name__ == "__main__":
    main()
