"""Engine benchmark (not part of the test run): buyers/s and events/s of the model at several sizes, and the
ratio of the model's events/s to a bare SimPy loop of timeouts with the same number of live processes,
measured in the same process run. Peak memory per size is measured in a fresh child process.

    python tests/benchmarks/bench_engine.py [--preset scenarios/base.toml] [--sizes 15000,60000,240000]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np
import simpy

from simfunnel.scenario import load_scenario
from simfunnel.simulate import simulate


def bare_loop_events_per_second(processes: int, events: int = 300_000) -> float:
    """events/s of `processes` SimPy processes each looping over exponential timeouts."""
    env = simpy.Environment()
    rng = np.random.default_rng(0)
    delays = (rng.exponential(1.0, 4096) * processes).tolist()

    def proc(k: int):
        i = k
        while True:
            yield env.timeout(delays[i & 4095])
            i += 1

    for k in range(processes):
        env.process(proc(k))
    # run until roughly `events` timeouts have fired: each process fires about once per `processes` time units
    t0 = time.perf_counter()
    env.run(until=float(events) / processes * processes)  # mean delay = processes, so ~events timeouts fire
    wall = time.perf_counter() - t0
    fired = next(env._eid)
    return fired / wall


def live_processes(result) -> float:
    """Time-average number of live model processes: leads in sales (handoff -> terminal) plus customers."""
    b = result.buyers
    H = result.scenario.simulation.horizon_days
    start = b["handoff_day"].to_numpy()
    end = np.where(np.isnan(b["terminal_day"].to_numpy()), H, b["terminal_day"].to_numpy())
    ok = ~np.isnan(start)
    in_sales = float(np.clip(np.minimum(end[ok], H) - start[ok], 0, None).sum()) / H
    customers = float(result.timeseries["customers"].mean())
    return max(1.0, in_sales + customers)


def memory_child(preset: str, buyers_per_year: float) -> dict:
    """Run one size in a fresh interpreter and return its peak RSS (MB)."""
    code = (
        "import json\n"
        "from pathlib import Path\n"
        "from simfunnel.scenario import load_scenario\n"
        "from simfunnel.simulate import simulate\n"
        "def status(key):\n"
        "    return next(int(l.split()[1]) for l in Path('/proc/self/status').read_text().splitlines() if l.startswith(key))\n"
        f"s = load_scenario({preset!r}, {{'market.buyers_per_year': {buyers_per_year}}})\n"
        "Path('/proc/self/clear_refs').write_text('5')  # reset the high-water mark to the current RSS\n"
        "base = status('VmRSS:')\n"
        "r = simulate(s, seed=1)\n"
        "peak = status('VmHWM:')\n"
        "print(json.dumps({'buyers': r.summary['buyers'], 'peak_mb': peak / 1024, 'import_mb': base / 1024}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="scenarios/base.toml")
    parser.add_argument("--sizes", default="15000,60000,240000", help="buyers_per_year values")
    parser.add_argument("--memory-sizes", default="", help="buyers_per_year values for the peak-RSS runs")
    args = parser.parse_args()
    base = load_scenario(args.preset)
    horizon = base.simulation.horizon_days
    print(f"preset {args.preset}, horizon {horizon:g} days")
    print(f"{'buyers/yr':>10} {'buyers':>9} {'leads':>7} {'events':>9} {'wall s':>7} {'buyers/s':>9} "
          f"{'journeys/s':>10} {'events/s':>9} {'live':>6} {'bare ev/s':>9} {'ratio':>6}")  # fmt: skip
    for size in [float(x) for x in args.sizes.split(",") if x]:
        sc = base.with_overrides({"market.buyers_per_year": size})
        r = simulate(sc, seed=1)
        s = r.summary
        wall = s["wall_seconds"]
        live = live_processes(r)
        bare = bare_loop_events_per_second(int(round(live)))
        ev_s = s["sim_events"] / wall
        print(
            f"{size:>10,.0f} {s['buyers']:>9,.0f} {s['mqls']:>7,.0f} {s['sim_events']:>9,.0f} {wall:>7.2f} "
            f"{s['buyers'] / wall:>9,.0f} {s['mqls'] / wall:>10,.0f} {ev_s:>9,.0f} {live:>6,.0f} {bare:>9,.0f} "
            f"{ev_s / bare:>6.2f}"
        )
    if args.memory_sizes:
        print("\npeak RSS (fresh process per size)")
        rows = []
        for size in [float(x) for x in args.memory_sizes.split(",") if x]:
            m = memory_child(args.preset, size)
            rows.append(m)
            print(f"  {m['buyers']:>11,.0f} buyers: peak {m['peak_mb']:8.1f} MB (before the run {m['import_mb']:.1f} MB)")
        if len(rows) >= 2:
            b = np.array([r["buyers"] for r in rows])
            p = np.array([r["peak_mb"] for r in rows])
            slope, intercept = np.polyfit(b, p, 1)
            print(f"  linear fit: {intercept:.1f} MB + {slope * 1024 * 1024:.0f} bytes/buyer")
    print(f"max RSS of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
