"""A key rotation: BENCH_REWRAP_COUNT credentials seeded under one key (the bench_seed
example), the server restarted with a new key and the old one as a previous key, and
`vault-server keys rewrap` run while wrk reads credentials."""

import contextlib
import os
import re
import subprocess
import time
from pathlib import Path

from .common import (CONNECTIONS, REWRAP_COUNT, SECONDS, SEEDER, SERVER, Server, fresh_database,
                     log, parse_wrk, run_cli, wrk, wrk_start)
from .endpoints import LUA


def bench_rewrap(store, workdir):
    """Rewrap throughput after a rotation, and reads during it next to reads after it."""
    old = run_cli(["keys", "generate"], {}, workdir)
    new = run_cli(["keys", "generate"], {}, workdir)
    base_env = {"PATH": os.environ.get("PATH", ""), "VAULT_DEV_MODE": "false", "RUST_LOG": "warn"}
    with contextlib.ExitStack() as stack:
        if store == "sqlite":
            env = {"DATABASE_URL": f"sqlite://{workdir}/rewrap.db"}
        else:
            env = {"DATABASE_URL": stack.enter_context(fresh_database("vault_rewrap"))}
            run_cli(["migrate"], {**env, "ENCRYPTION_KEY": old}, workdir)
        ids_file = Path(workdir) / f"rewrap-ids-{store}.txt"
        log(f"[{store}] seeding {REWRAP_COUNT} credentials under the old key")
        started = time.time()
        seeded = subprocess.run([str(SEEDER), str(REWRAP_COUNT), str(ids_file)],
                                env={**base_env, "ENCRYPTION_KEY": old, **env},
                                cwd=workdir, capture_output=True, text=True)
        if seeded.returncode != 0:
            raise SystemExit(f"bench_seed failed: {seeded.stderr}")
        token = seeded.stdout.strip().splitlines()[-1]
        log(f"[{store}] seeded in {time.time() - started:.0f}s")
        rotated = {**env, "ENCRYPTION_KEY": new, "ENCRYPTION_KEYS_PREVIOUS": old}
        with Server(rotated, workdir) as server:
            script = LUA["get"] % {"ids": ids_file, "token": token}
            log(f"[{store}] keys rewrap with GET /credentials/{{id}} at {CONNECTIONS} connections")
            reads = wrk_start(server.base, script, workdir, seconds=600, name="rewrap")
            try:
                time.sleep(1)
                started = time.time()
                rewrap = subprocess.run([str(SERVER), "keys", "rewrap", "--batch", "500"],
                                        env={**base_env, **rotated}, cwd=workdir,
                                        capture_output=True, text=True)
                seconds = time.time() - started
            finally:
                reads.send_signal(2)  # SIGINT: wrk stops and reports
                during = parse_wrk(reads.communicate(timeout=30)[0])
            if rewrap.returncode != 0:
                raise SystemExit(f"keys rewrap failed: {rewrap.stderr}")
            moved = int(re.search(r"rewrapped (\d+) sealed rows", rewrap.stdout).group(1))
            log(f"[{store}] the same reads after the rewrap: {SECONDS}s")
            after = wrk(server.base, script, workdir)
    return {"credentials": REWRAP_COUNT, "rows": moved, "seconds": seconds,
            "rows_per_second": moved / seconds, "credentials_per_second": REWRAP_COUNT / seconds,
            "reads_during": during, "reads_after": after,
            "read_ratio": during["requests_per_second"] / after["requests_per_second"]}
