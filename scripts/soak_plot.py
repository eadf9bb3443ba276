"""Draws target/soak/memory.png from the soak's <backend>.csv samples and joins the
<backend>.md summaries into summary.md, under a joint table of each <backend>.json's figures.
Run by scripts/soak.sh with matplotlib from its venv."""

import csv
import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display: write the file only
import matplotlib.pyplot as plt  # noqa: E402


def main(out: Path) -> int:
    runs = sorted(out.glob("*.csv"))
    if not runs:
        print(f"no soak samples in {out}", file=sys.stderr)
        return 1
    fig, (memory, load) = plt.subplots(2, 1, figsize=(10, 7), sharex=True)
    for run in runs:
        with run.open() as f:
            rows = list(csv.DictReader(f))
        seconds = [float(r["seconds"]) for r in rows]
        mib = [int(r["rss_kib"]) / 1024 for r in rows]
        rate = [float(r["requests_per_second"]) for r in rows]
        memory.plot(seconds, mib, label=run.stem)
        (line,) = load.plot(seconds, rate, label=run.stem, alpha=0.6)
        # The first and last quarters' mean rates, as the summary judges them.
        figures = run.with_suffix(".json")
        if figures.exists() and seconds:
            f = json.loads(figures.read_text())
            end = seconds[-1]
            style = {"colors": line.get_color(), "linestyles": "--"}
            load.hlines(f["first_quarter_per_second"], 0, end / 4, **style)
            load.hlines(f["last_quarter_per_second"], end * 3 / 4, end, **style)
    memory.set_ylabel("server resident memory (MiB)")
    memory.set_ylim(bottom=0)
    memory.set_title("vault soak: resident memory and load over the run")
    memory.legend()
    memory.grid(alpha=0.3)
    load.set_ylabel("requests/s")
    load.set_xlabel("seconds")
    load.set_ylim(bottom=0)
    load.legend()
    load.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out / "memory.png", dpi=100)

    summaries = [p.read_text() for p in sorted(out.glob("*.md")) if p.name != "summary.md"]
    (out / "summary.md").write_text(
        "## Soak\n\n" + joint_table(out) + "\n".join(summaries) + "\n![memory](memory.png)\n"
    )
    print(f"wrote {out / 'memory.png'} and {out / 'summary.md'}")
    return 0


def joint_table(out: Path) -> str:
    """One row per backend: throughput over the first and last quarter (the target: last at
    least 0.90 of first, reported, not asserted) and memory after warm-up."""
    rows = []
    for path in sorted(out.glob("*.json")):
        f = json.loads(path.read_text())
        flat = "yes" if f["throughput_flat"] else "**NO**"
        if not f["throughput_flat"]:
            ratio = f["last_over_first"]
            print(f"WARNING: {f['backend']}: throughput last/first {ratio:.2f}, below 0.90")
        rows.append(
            f"| {f['backend']} | {f['requests']:,} | {f['requests'] / max(f['seconds'], 1):,.0f} "
            f"| {f['first_quarter_per_second']:,.0f} | {f['last_quarter_per_second']:,.0f} "
            f"| {f['last_over_first']:.2f} | {flat} "
            f"| {f['memory_early_kib'] / 1024:.1f} → {f['memory_late_kib'] / 1024:.1f} "
            f"| {f['failures']} |"
        )
    if not rows:
        return ""
    head = (
        "| backend | requests | requests/s | first quarter /s | last quarter /s | last/first "
        "| last/first ≥ 0.90 | memory after warm-up, MiB | failures |\n"
        "|---|---:|---:|---:|---:|---:|---|---|---:|\n"
    )
    return head + "\n".join(rows) + "\n\n"


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
