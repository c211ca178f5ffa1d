"""Open a report.html in headless Chromium, screenshot it, and check the page is not blank.

    python perf/screenshot_report.py [REPORT.html] [--out shot.png]

Without a report, renders one from simulated judgments (no model needed). Prints the
screenshot path, its size and how much of it is drawn (non-background pixels), and exits
non-zero when Chromium is missing or the screenshot looks blank. Chromium runs with
networking features off: the report must need nothing outside the file.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def sample_report(path: Path) -> Path:
    from judgeaudit.reports.html import render_report
    from judgeaudit.stats import compute_results, evaluate, load_policy
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from simulated_records import simulate_records  # the tests' fixture records

    def rule(probe, kind, order, i, rng):
        if kind == "substance":
            return float(rng.choice([0.0, 0.25, 0.5]))
        if kind == "crossed":
            return float(rng.choice([0.0, 0.25, 1.0], p=[0.5, 0.3, 0.2]))
        if probe == "verbose":
            return float(rng.choice([0.5, 0.75, 1.0]))
        return 0.5 + (0.25 if order == "perturbed_first" else -0.25) * (rng.random() < 0.3)

    results = compute_results(simulate_records(rule, n_items=60), judge="simulated", battery="default", seed=0)
    path.write_text(render_report(results, checks=evaluate(load_policy(), results), policy_name="default"),
                    encoding="utf-8")
    return path


def screenshot(report: Path, out: Path, size: str = "1200,3000", timeout: float = 120.0) -> Path:
    browser = find_chromium()
    if browser is None:
        raise SystemExit("chromium not found (Debian: apt-get install chromium)")
    with tempfile.TemporaryDirectory() as profile:
        cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               "--hide-scrollbars", f"--user-data-dir={profile}", f"--screenshot={out.resolve()}",
               f"--window-size={size}", report.resolve().as_uri()]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if not out.exists():
        raise SystemExit(f"chromium wrote no screenshot (exit {proc.returncode}): {proc.stderr.strip()[-400:]}")
    return out


def drawn_fraction(png: Path) -> tuple[tuple[int, int], float, int]:
    """(width, height), share of pixels that differ from the most common colour, distinct colours."""
    import matplotlib.image as mpimg

    img = mpimg.imread(str(png))[..., :3]
    flat = (img.reshape(-1, 3) * 255).round().astype(np.uint8)
    colours, counts = np.unique(flat, axis=0, return_counts=True)
    background = counts.max() / counts.sum()
    return (img.shape[1], img.shape[0]), 1.0 - float(background), int(colours.shape[0])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("report", nargs="?", type=Path)
    ap.add_argument("--out", type=Path, default=Path("report_screenshot.png"))
    ap.add_argument("--window-size", default="1200,3000")
    args = ap.parse_args()
    report = args.report
    if report is None:
        report = sample_report(Path(tempfile.mkdtemp()) / "report.html")
    shot = screenshot(report, args.out, args.window_size)
    (w, h), drawn, colours = drawn_fraction(shot)
    print(f"screenshot {shot} {w}x{h}: {drawn:.1%} of pixels drawn, {colours} distinct colours")
    # A blank page is one colour; text alone stays under a few hundred colours, the
    # anti-aliased plots bring thousands.
    if drawn < 0.02 or colours < 500:
        print("screenshot looks blank or has no figures", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
