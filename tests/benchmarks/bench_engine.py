"""Engine benchmark (not part of the test run): buyers/s and events/s of the model at several sizes, and the
ratio of the model's events/s to a bare SimPy loop of timeouts with the same number of live processes,
measured in the same process run. Peak memory per size is measured in a fresh child process.

    python tests/benchmarks/bench_engine.py [--preset scenarios/base.toml] [--sizes 15000,60000,240000]
                                            [--against REV]

``--against REV`` runs the same sizes in a temporary git worktree of REV (each tree with its own preset file, in a
fresh process, ``PYTHONPATH`` at the tree) and then in this tree, and prints the CPU per buyer of both and the
ratio REV / this tree (> 1: this tree is faster).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import simpy

sys.path.insert(0, str(Path(__file__).resolve().parent))  # revtree, for --against
from revtree import simulated_buyers  # noqa: E402

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


def measure_sizes(preset: str, sizes: list[float]) -> list[dict[str, float]]:
    """One run per size: buyers, events, wall and CPU seconds, live processes and the bare SimPy loop's events/s."""
    base = load_scenario(preset)
    rows = []
    for k, size in enumerate(sizes):
        sc = base.with_overrides({"market.buyers_per_year": size})
        t = time.process_time()
        r = simulate(sc, seed=1 + k)  # a seed per size: nothing remembered from the previous size's run helps
        cpu = time.process_time() - t
        s = r.summary
        live = live_processes(r)
        rows.append({"size": size, "buyers": simulated_buyers(r), "mqls": s["mqls"], "events": s["sim_events"],
                     "wall": s["wall_seconds"], "cpu": cpu, "live": live,
                     "bare": bare_loop_events_per_second(int(round(live)))})  # fmt: skip
    return rows


def print_rows(rows: list[dict[str, float]]) -> None:
    print(f"{'buyers/yr':>10} {'buyers':>9} {'leads':>7} {'events':>9} {'wall s':>7} {'buyers/s':>9} "
          f"{'journeys/s':>10} {'events/s':>9} {'live':>6} {'bare ev/s':>9} {'ratio':>6} {'us CPU/b':>8}")  # fmt: skip
    for row in rows:
        wall = row["wall"]
        ev_s = row["events"] / wall
        print(
            f"{row['size']:>10,.0f} {row['buyers']:>9,.0f} {row['mqls']:>7,.0f} {row['events']:>9,.0f} {wall:>7.2f} "
            f"{row['buyers'] / wall:>9,.0f} {row['mqls'] / wall:>10,.0f} {ev_s:>9,.0f} {row['live']:>6,.0f} "
            f"{row['bare']:>9,.0f} {ev_s / row['bare']:>6.2f} {row['cpu'] / row['buyers'] * 1e6:>8.1f}"
        )


def against(rev: str, args: argparse.Namespace) -> None:
    """The same sizes in a worktree of ``rev`` and in this tree, each in a fresh process; CPU per buyer ratios."""
    from revtree import REPO, run_child, worktree

    argv = [__file__, "--preset", args.preset, "--sizes", args.sizes, "--json"]
    with worktree(rev) as tree:
        theirs = run_child(tree, argv)
    mine = run_child(REPO, argv)
    for label, got in ((rev, theirs), ("this tree", mine)):
        print(f"\n{label}:")
        if "error" in got:
            print(f"  failed: {got['error']}")
        else:
            print_rows(got["rows"])
    if "error" in theirs or "error" in mine:
        return
    print(f"\nCPU per buyer, {rev} / this tree (> 1: this tree is faster):")
    for a, b in zip(theirs["rows"], mine["rows"], strict=True):
        ratio = (a["cpu"] / a["buyers"]) / (b["cpu"] / b["buyers"])
        print(f"  {b['size']:>10,.0f} buyers/yr: {ratio:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="scenarios/base.toml")
    parser.add_argument("--sizes", default="15000,60000,240000", help="buyers_per_year values")
    parser.add_argument("--memory-sizes", default="", help="buyers_per_year values for the peak-RSS runs")
    parser.add_argument("--against", metavar="REV", help="also run in a git worktree of REV and compare")
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sizes = [float(x) for x in args.sizes.split(",") if x]
    if args.json:
        print(json.dumps({"rows": measure_sizes(args.preset, sizes)}))
        return
    if args.against:
        against(args.against, args)
        return
    horizon = load_scenario(args.preset).simulation.horizon_days
    print(f"preset {args.preset}, horizon {horizon:g} days")
    print_rows(measure_sizes(args.preset, sizes))
    if args.memory_sizes:
        print("\npeak RSS (fresh process per size)")
        rows = []
        for size in [float(x) for x in args.memory_sizes.split(",") if x]:
            m = memory_child(args.preset, size)
            rows.append(m)
            print(
                f"  {m['buyers']:>11,.0f} buyers: peak {m['peak_mb']:8.1f} MB (before the run {m['import_mb']:.1f} MB)"
            )
        if len(rows) >= 2:
            b = np.array([r["buyers"] for r in rows])
            p = np.array([r["peak_mb"] for r in rows])
            slope, intercept = np.polyfit(b, p, 1)
            print(f"  linear fit: {intercept:.1f} MB + {slope * 1024 * 1024:.0f} bytes/buyer")
    print(f"max RSS of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
