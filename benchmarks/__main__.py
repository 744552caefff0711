"""Run every benchmark in one go: ``python -m benchmarks [--quick]``.

Each prints its table and writes its figures to benchmarks/results/<name>.json. ``--quick``
runs smaller sizes (a smoke test, not the recorded figures).
"""

from __future__ import annotations

import argparse

from benchmarks import answers, dispatch, reports, themes


def main() -> None:
    """Dispatch, answers, reports, themes: in that order, in one run on one machine."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, a smoke test")
    args = parser.parse_args()
    if args.quick:
        dispatch.main(["--surveys", "500", "--limit", "100"])
        answers.main(["--customers", "500", "--cpu-customers", "200", "--paced", "100"])
        reports.main(["--answers", "20000", "--runs", "2"])
        themes.main(["--comments", "5000", "--singles", "200"])
    else:
        dispatch.main([])
        answers.main([])
        reports.main([])
        themes.main([])


if __name__ == "__main__":
    main()
