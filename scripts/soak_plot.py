"""Draws target/soak/memory.png from the soak's <backend>.csv samples and joins the
<backend>.md summaries into summary.md. Run by scripts/soak.sh with matplotlib from its venv."""

import csv
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
        requests = [int(r["requests"]) for r in rows]
        # Throughput between samples, requests per second.
        rate = [
            (requests[i] - requests[i - 1]) / (seconds[i] - seconds[i - 1]) if i else 0
            for i in range(len(rows))
        ]
        memory.plot(seconds, mib, label=run.stem)
        load.plot(seconds[1:], rate[1:], label=run.stem)
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
        "## Soak\n\n" + "\n".join(summaries) + "\n![memory](memory.png)\n"
    )
    print(f"wrote {out / 'memory.png'} and {out / 'summary.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
