"""The library's figure, from criterion's results: `make bench` runs
`cargo bench -p vault-server --bench apply` first, and the targets table reads the
throughput of apply_credential from 16 concurrent tasks on an SQLite file from it."""

import json
import time

from .common import ROOT


def is_apply_from_16_tasks(full_id):
    # benches/apply.rs names it e.g. "apply_credential/sqlite, 16 tasks/api_key".
    return full_id.startswith("apply_credential/") and "sqlite" in full_id \
        and "16 tasks" in full_id


def apply_throughput(since):
    """The slowest matching benchmark's uses/s (it must declare Throughput::Elements: the
    uses one iteration makes), or None if apply.rs has none. Results written before SINCE
    (seconds since the epoch) are marked stale."""
    found = None
    for meta_path in (ROOT / "target" / "criterion").rglob("new/benchmark.json"):
        meta = json.loads(meta_path.read_text())
        elements = (meta.get("throughput") or {}).get("Elements")
        if not is_apply_from_16_tasks(meta.get("full_id", "")) or not elements:
            continue
        estimates = json.loads((meta_path.parent / "estimates.json").read_text())
        # criterion's own "typical" time: the slope where it fitted one, else the mean.
        typical = estimates.get("slope") or estimates["mean"]
        uses = elements * 1e9 / typical["point_estimate"]
        written = meta_path.stat().st_mtime
        if found is None or uses < found["uses_per_second"]:
            found = {"id": meta["full_id"], "uses_per_second": uses,
                     "written": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(written)),
                     "stale": written < since}
    return found
