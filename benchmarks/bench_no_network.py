"""The README's main command with no network and no mirror: how long until it stops and says why.

    python benchmarks/bench_no_network.py [--mode refused|silent]

Every publisher host in the catalogue is replaced by a loopback address: ``refused`` (a closed
port: what a machine without a network sees once DNS or routing fails) or ``silent`` (a port that
accepts nothing and answers nothing: a firewall dropping packets, simulated with an unroutable
TEST-NET-1 address, 192.0.2.1). Nothing reaches the internet. Goal (issue 13): exit non-zero in
under 20 s, naming GROWTH_ZONES_MIRROR and --mirror.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mode", choices=("refused", "silent"), default="refused")
    args = ap.parse_args()
    text = (REPO / "data" / "catalogue.toml").read_text(encoding="utf-8")
    hosts = sorted(set(re.findall(r'"https?://([^/"]+)/', text)))
    for host in hosts:
        if args.mode == "refused":
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                target = f"127.0.0.1:{s.getsockname()[1]}"
        else:
            target = "192.0.2.1"
        text = text.replace(f"https://{host}/", f"http://{target}/").replace(
            f"http://{host}/", f"http://{target}/"
        )
    with tempfile.TemporaryDirectory() as tmp:
        cat = Path(tmp) / "catalogue.toml"
        cat.write_text(text, encoding="utf-8")
        env = {
            **os.environ,
            "GROWTH_ZONES_CATALOGUE": str(cat),
            "GROWTH_ZONES_CACHE": str(Path(tmp) / "cache"),
            "GROWTH_ZONES_MIRROR": "",
            "PYTHONPATH": str(REPO),
        }
        cmd = [
            sys.executable,
            "-c",
            "from cli import app; app()",
            "assess",
            str(REPO / "data/examples/applications.geojson"),
            "--out",
            str(Path(tmp) / "out"),
            "--html",
        ]
        t0 = time.perf_counter()
        res = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
        wall = time.perf_counter() - t0
    last = res.stderr.strip().splitlines()[-1] if res.stderr.strip() else ""
    print(
        json.dumps(
            {
                "mode": args.mode,
                "wall_s": round(wall, 2),
                "exit_code": res.returncode,
                "names_env_and_option": "GROWTH_ZONES_MIRROR" in last and "--mirror" in last,
                "first_line": res.stderr.splitlines()[0] if res.stderr else "",
                "last_line": last[:300],
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
