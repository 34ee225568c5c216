"""Every row of the speed table (issue 11) in one command; not part of the test run.

    python tests/benchmarks/run_all.py [--quick] [--against REV] [--rows engine,growth,...]

Each workload runs in a fresh child process with ``PYTHONPATH`` at the source tree (this one; with ``--against``
also a temporary git worktree of REV, the same workload, in the same session), so ratios compare like with like.
Ratios are ``REV / this tree`` (> 1: this tree is faster or smaller). Wall-clock rows depend on the load of the
machine; CPU-time rows much less. Result caches are fresh temporary folders (cold) unless a row says otherwise.

Rows: ``engine`` CPU per simulated buyer, warm-up included (each tree's aligned.toml); ``engine_same`` the same with
REV's aligned.toml in both trees (the engine alone, the preset held fixed; without REV, as ``engine``); ``growth`` exponent of CPU time in buyers (market and
sales reps scaled x1..x16; x1..x4 run 3 times each, the fastest kept; events per buyer printed); ``imports`` ``import simfunnel`` and ``simfunnel --help``;
``whatif`` the explorer's what-if update (base.toml, 3 paired replications: cold, one lever toggled, repeated);
``attribution`` all-lever Shapley attribution, n=2, 2 workers; ``parallel`` 2 workers vs serial, 30-replication
compare; ``report`` ``report --quick`` with a cold cache; ``rss`` peak RSS of a serial compare n=30.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from revtree import REPO, child_env, run_child, simulated_buyers, worktree  # noqa: E402

ROWS = ("engine", "engine_same", "growth", "imports", "whatif", "attribution", "parallel", "report", "rss")
TABLE = {  # row: (what, measured before, goal)
    "engine": ("CPU per simulated buyer, aligned.toml (vs REV)", "1.0x", ">= 2.5x faster"),
    "engine_same": ("CPU per simulated buyer, REV's aligned.toml in both trees", "1.0x", ">= 2.5x faster"),
    "growth": ("growth of CPU time with size (x1..x16)", "buyers^1.17", "<= buyers^1.05"),
    "imports": ("import simfunnel / simfunnel --help", "0.84 s", "<= 0.35 s"),
    "whatif": ("what-if update (explorer, base.toml)", "1.7 s", "<= 0.5 s, exact"),
    "attribution": ("all-lever attribution, n=2, 2 workers", "~190 s", "<= 45 s, same Shapley"),
    "parallel": ("2 workers vs serial, 30-rep compare", "~1.6x idle", ">= 1.85x"),
    "report": ("report --quick, cold cache", "~51 s", "<= 20 s"),
    "rss": ("peak RSS, serial compare n=30", "465 MB", "<= 250 MB"),
}


# ============================================================================================== child workloads
def _stable_means(summary: Any) -> list[float | None]:
    """The means of every metric but ``wall_seconds`` (NaN as None, so that lists compare exactly)."""
    rows = summary[summary["metric"] != "wall_seconds"]
    return [None if x != x else float(x) for x in rows["mean"].tolist()]


def scaled(base: Any, k: float) -> Any:
    """``base`` with the market and the sales reps scaled by ``k`` (as issue 11 measured it; budget and initial
    customers stay, so leads per buyer drift a little with size: the row also prints events per buyer)."""
    ov: dict[str, Any] = {"market.buyers_per_year": base.market.buyers_per_year * k}
    ov["sales.reps"] = max(1, round(base.sales.reps * k))
    return base.with_overrides(ov)


def w_engine(p: dict[str, Any]) -> dict[str, Any]:
    """CPU seconds per run at each size multiple (the x1 size repeated ``repeats`` times, each with its own seed)."""
    from simfunnel.scenario import load_scenario
    from simfunnel.simulate import simulate

    base = load_scenario(p["preset"])
    simulate(scaled(base, 0.1), seed=2)  # warm-up: lazy imports, first-call costs
    out = []
    for k in p["mults"]:
        sc = scaled(base, k)
        for rep in range(p["repeats"] if k == 1 else p.get("small_repeats", 1) if k <= 4 else 1):
            t = time.process_time()
            r = simulate(sc, seed=100 + rep)  # a fresh seed per run: no per-seed memo (streams.keyed_generator) helps
            cpu = time.process_time() - t
            out.append({"mult": k, "buyers": simulated_buyers(r), "cpu": cpu, "events": r.summary["sim_events"]})
            del r
    return {"runs": out}


def _what_if_fn() -> Callable[..., Any]:
    try:
        from simfunnel.present.explorer import what_if
    except ImportError:
        from simfunnel.explorer import what_if
    return what_if


def w_whatif(p: dict[str, Any]) -> dict[str, Any]:
    """The explorer's update, serial and (where `what_if` takes ``executor=``) on the warm worker pool, each with
    its own empty cache: cold (both arms simulated), one more lever toggled (the base arm reused), repeated."""
    from simfunnel.scenario import load_scenario

    what_if = _what_if_fn()
    import simfunnel.plots  # noqa: F401 - imported by a notebook before its first update; not timed

    base = load_scenario("scenarios/base.toml")
    n = p["replications"]
    out: dict[str, Any] = {}
    steps = (("cold", {"pass_context": True}), ("toggle", {"queue_policy": True}), ("again", {"pass_context": True}))
    for mode in ("serial", "processes"):
        extra = {} if mode == "serial" else {"executor": mode}
        with tempfile.TemporaryDirectory(prefix="simfunnel-whatif-") as cache:
            try:
                for label, levers in steps:
                    t = time.perf_counter()
                    w = what_if(base, levers=levers, replications=n, seed=1, cache=cache, **extra)
                    out[f"{mode}_{label}"] = time.perf_counter() - t
                    out[f"{mode}_{label}_simulated"] = getattr(w, "simulated", -1)
                    out[f"{mode}_{label}_means"] = _stable_means(w.summary)
                    if hasattr(w, "close"):
                        w.close()
            except TypeError:  # an older what_if without executor=
                break
    fresh = what_if(base, levers={"pass_context": True}, replications=n, seed=1, cache=False, figures=False)
    want = _stable_means(fresh.summary)
    got = [v for k, v in out.items() if k.endswith("_means") and k.split("_")[1] != "toggle"]
    out["exact"] = all(g == want for g in got)
    return {k: v for k, v in out.items() if not k.endswith("_means")}


def w_attribution(p: dict[str, Any]) -> dict[str, Any]:
    """`attribute` over every lever (sampled orders) on 2 worker processes, no cache."""
    import simfunnel
    from simfunnel.scenario import load_scenario

    lo, hi = load_scenario("scenarios/siloed.toml"), load_scenario("scenarios/aligned.toml")
    t = time.perf_counter()
    a = simfunnel.attribute(lo, hi, n=p["n"], seed=1, permutations=p["permutations"], executor="processes",
                            workers=p["workers"], progress=False)  # fmt: skip
    wall = time.perf_counter() - t
    tab = a.table
    return {
        "seconds": wall,
        "levers": len(tab),
        "coalitions": int(a.runs["coalition_id"].nunique()),
        "table": {str(r.lever): [float(r.shapley), float(r.ci_low), float(r.ci_high)] for r in tab.itertuples()},
    }


def _compare_pair(n: int, **kw: Any) -> Any:
    import simfunnel
    from simfunnel.scenario import load_scenario

    scns = {"siloed": load_scenario("scenarios/siloed.toml"), "aligned": load_scenario("scenarios/aligned.toml")}
    return simfunnel.compare(scns, n=n, seed=1, progress=False, **kw)


def tree_cpu() -> float:
    """CPU seconds of this process, its finished children and every live descendant (with their finished
    children) - workers of a fork server are grandchildren (Linux /proc; elsewhere this process and children)."""
    import resource

    me, ticks = os.getpid(), os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    cpu: dict[int, float] = {}
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        pid = int(entry.name)
        parents[pid] = int(fields[1])
        cpu[pid] = sum(int(f) for f in fields[11:15]) / ticks  # utime, stime, cutime, cstime

    def descends(pid: int) -> bool:
        seen = 0
        while pid in parents and seen < 64:
            pid, seen = parents[pid], seen + 1
            if pid == me:
                return True
        return False

    live = sum(c for pid, c in cpu.items() if pid != me and descends(pid))
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + ru.ru_utime + ru.ru_stime + live


def w_parallel(p: dict[str, Any]) -> dict[str, Any]:
    """Serial, then 2 worker processes (first call: pool start included; second call: warm pool if reused). Wall
    and CPU seconds (the CPU of the parallel calls includes the workers', so it shows the overhead whatever the
    load of the machine)."""
    import pandas.testing as pdt

    _compare_pair(1, executor="serial")  # warm-up of the imports
    c, t = tree_cpu(), time.perf_counter()
    ser = _compare_pair(p["n"], executor="serial")
    serial, serial_cpu = time.perf_counter() - t, tree_cpu() - c
    times, cpus = [], []
    for _ in range(2):
        c, t = tree_cpu(), time.perf_counter()
        par = _compare_pair(p["n"], executor="processes", workers=p["workers"])
        times.append(time.perf_counter() - t)
        cpus.append(tree_cpu() - c)
    a, b = (e.runs[e.runs["metric"] != "wall_seconds"].reset_index(drop=True) for e in (ser, par))
    try:
        pdt.assert_frame_equal(a, b)
        identical = True
    except AssertionError:
        identical = False
    return {"serial": serial, "first": times[0], "second": times[1], "identical": identical, "serial_cpu": serial_cpu,
            "first_cpu": cpus[0], "second_cpu": cpus[1]}  # fmt: skip


def _status_mb(key: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key):
            return int(line.split()[1]) / 1024
    return math.nan


def w_rss(p: dict[str, Any]) -> dict[str, Any]:
    """Peak RSS (VmHWM) of a process that runs a serial compare of siloed vs aligned."""
    _compare_pair(1, executor="serial")
    before = _status_mb("VmRSS:")
    _compare_pair(p["n"], executor="serial")
    return {"peak_mb": _status_mb("VmHWM:"), "after_import_mb": before, "end_mb": _status_mb("VmRSS:")}


WORKLOADS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "engine": w_engine,
    "whatif": w_whatif,
    "attribution": w_attribution,
    "parallel": w_parallel,
    "rss": w_rss,
}


# ============================================================================================== parent: measure
def child(tree: Path, workload: str, params: dict[str, Any], cache: bool = True) -> dict[str, Any]:
    """Run one workload in a fresh process importing simfunnel from ``tree`` (with a fresh, empty cache)."""
    with tempfile.TemporaryDirectory(prefix="simfunnel-cache-") as cache_dir:
        env = {"SIMFUNNEL_CACHE_DIR": cache_dir} if cache else {"SIMFUNNEL_CACHE": "0"}
        return run_child(tree, [__file__, "--child", workload, "--params", json.dumps(params)], env)


def best_wall(tree: Path, argv: list[str], repeats: int) -> float:
    """The fastest of ``repeats`` wall times of ``python argv`` in ``tree``."""
    best = math.inf
    for _ in range(repeats):
        t = time.perf_counter()
        subprocess.run([sys.executable, *argv], cwd=tree, env=child_env(tree), capture_output=True, check=True)
        best = min(best, time.perf_counter() - t)
    return best


def m_imports(tree: Path, quick: bool) -> dict[str, Any]:
    repeats = 3 if quick else 7
    helpcode = "import sys; sys.argv = ['simfunnel', '--help']; from simfunnel.cli import main; sys.exit(main())"
    return {
        "bare": best_wall(tree, ["-c", "pass"], repeats),
        "import": best_wall(tree, ["-c", "import simfunnel"], repeats),
        "help": best_wall(tree, ["-c", helpcode], repeats),
        "first_use": best_wall(tree, ["-c", "import simfunnel; simfunnel.simulate"], repeats),
    }


def m_report(tree: Path, quick: bool) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="simfunnel-report-") as tmp:
        argv = ["-m", "simfunnel.cli", "report", "scenarios/siloed.toml", "scenarios/aligned.toml", "--quick",
                "-o", str(Path(tmp) / "r.html"), "-q"]  # fmt: skip
        env = child_env(tree, {"SIMFUNNEL_CACHE_DIR": str(Path(tmp) / "cache")})
        t = time.perf_counter()
        proc = subprocess.run([sys.executable, *argv], cwd=tree, env=env, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - t
    if proc.returncode != 0:
        return {"error": (proc.stderr.strip().splitlines() or ["?"])[-1][:200]}
    return {"seconds": wall}


def measure(row: str, tree: Path, quick: bool, rev_tree: Path | None = None) -> dict[str, Any]:
    """One row's measurement in ``tree``; ``rev_tree``: the other revision's tree (rows that share its files)."""
    if row in ("engine", "engine_same"):
        # engine_same: the very same scenario file (REV's) in both trees, so that a change of the preset between
        # the revisions (a warm-up, a recalibration) does not count as a change of the engine's speed
        preset = "scenarios/aligned.toml"
        if row == "engine_same" and rev_tree is not None:
            preset = str(rev_tree / "scenarios" / "aligned.toml")
        return child(tree, "engine", {"preset": preset, "mults": [1], "repeats": 3})
    if row == "growth":
        mults = [1, 2, 4] if quick else [1, 2, 4, 8, 16]
        # the small sizes (under a second each) repeated, the fastest kept: a busy machine's noise would otherwise
        # decide the exponent
        params = {"preset": "scenarios/aligned.toml", "mults": mults, "repeats": 3, "small_repeats": 3}
        return child(tree, "engine", params)
    if row == "imports":
        return m_imports(tree, quick)
    if row == "whatif":
        return child(tree, "whatif", {"replications": 3})
    if row == "attribution":
        return child(tree, "attribution", {"n": 2, "workers": 2, "permutations": 4 if quick else 24}, cache=False)
    if row == "parallel":
        return child(tree, "parallel", {"n": 10 if quick else 30, "workers": 2}, cache=False)
    if row == "report":
        return m_report(tree, quick)
    if row == "rss":
        return child(tree, "rss", {"n": 10 if quick else 30}, cache=False)
    raise ValueError(row)


# ============================================================================================== parent: summarise
def cpu_per_buyer(m: dict[str, Any]) -> float:
    return min(r["cpu"] / r["buyers"] for r in m["runs"] if r["mult"] == 1) * 1e6


def fastest_per_size(m: dict[str, Any]) -> list[dict[str, Any]]:
    """Per size multiple, the run with the least CPU per buyer (the repeated small sizes: the least disturbed)."""
    best: dict[float, dict[str, Any]] = {}
    for r in m["runs"]:
        if r["mult"] not in best or r["cpu"] / r["buyers"] < best[r["mult"]]["cpu"] / best[r["mult"]]["buyers"]:
            best[r["mult"]] = r
    return [best[k] for k in sorted(best)]


def growth_exponent(m: dict[str, Any]) -> float:
    runs = fastest_per_size(m)
    xs = [math.log(r["buyers"]) for r in runs]
    ys = [math.log(r["cpu"]) for r in runs]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum((x - mx) ** 2 for x in xs)


def headline(row: str, m: dict[str, Any]) -> tuple[float, str]:
    """(the row's number, its text) for one tree's measurement."""
    if "error" in m:
        return math.nan, f"n/a ({m['error']})"
    if row in ("engine", "engine_same"):
        v = cpu_per_buyer(m)
        return v, f"{v:.1f} us CPU/buyer"
    if row == "growth":
        v = growth_exponent(m)
        sizes = ", ".join(
            f"{r['buyers'] / 1e3:.0f}k {r['cpu']:.1f}s {r['events'] / r['buyers']:.2f}ev/b" for r in fastest_per_size(m)
        )
        return v, f"buyers^{v:.2f} ({sizes})"
    if row == "imports":
        text = f"import {m['import']:.2f} s, --help {m['help']:.2f} s (bare python {m['bare']:.2f} s"
        if "first_use" in m:
            text += f"; simfunnel.simulate reached {m['first_use']:.2f} s"
        return max(m["import"], m["help"]), text + ")"
    if row == "whatif":
        parts = []
        for mode in ("serial", "processes"):
            if f"{mode}_cold" in m:
                parts.append(f"{mode}: cold {m[f'{mode}_cold']:.2f} s ({m[f'{mode}_cold_simulated']} runs), toggle "
                             f"{m[f'{mode}_toggle']:.2f} s ({m[f'{mode}_toggle_simulated']} runs), repeat "
                             f"{m[f'{mode}_again']:.2f} s")  # fmt: skip
        best = min(m.get("processes_toggle", math.inf), m["serial_toggle"])
        return best, "; ".join(parts) + f"; exact={m['exact']}"
    if row == "attribution":
        return m["seconds"], f"{m['seconds']:.1f} s ({m['levers']} levers, {m['coalitions']} coalitions)"
    if row == "parallel":
        r1, r2 = m["serial"] / m["first"], m["serial"] / m["second"]
        text = (f"{r1:.2f}x first call, {r2:.2f}x second call (serial {m['serial']:.1f} s, 2 workers "
                f"{m['first']:.1f} / {m['second']:.1f} s); identical={m['identical']}")  # fmt: skip
        if "serial_cpu" in m:
            over = [m[f"{k}_cpu"] / m["serial_cpu"] - 1 for k in ("first", "second")]
            text += (f"; CPU serial {m['serial_cpu']:.1f} s, 2 workers {m['first_cpu']:.1f} / {m['second_cpu']:.1f} s "
                     f"(overhead {over[0]:+.0%} / {over[1]:+.0%}: bound on an idle machine "
                     f"{2 * m['serial_cpu'] / m['first_cpu']:.2f}x / {2 * m['serial_cpu'] / m['second_cpu']:.2f}x)")  # fmt: skip
        return r1, text
    if row == "report":
        return m["seconds"], f"{m['seconds']:.1f} s"
    if row == "rss":
        return m["peak_mb"], f"{m['peak_mb']:.0f} MB peak ({m['after_import_mb']:.0f} MB after import)"
    raise ValueError(row)


def shapley_agreement(a: dict[str, Any], b: dict[str, Any]) -> str:
    """How many levers' Shapley values of one tree lie within the other's 95 % CI."""
    ta, tb = a.get("table", {}), b.get("table", {})
    common = [k for k in ta if k in tb]
    inside = sum(tb[k][1] <= ta[k][0] <= tb[k][2] for k in common)
    return f"; Shapley within REV's CI for {inside}/{len(common)} levers"


def ratio_text(row: str, mine: float, theirs: float) -> str:
    """REV / this tree for costs (> 1: better here); this tree / REV for the speed-up ratio rows."""
    if not (math.isfinite(mine) and math.isfinite(theirs)) or mine == 0:
        return "n/a"
    if row == "growth":
        return f"{theirs:.2f} -> {mine:.2f}"
    if row == "parallel":
        return f"{mine / theirs:.2f}x"
    return f"{theirs / mine:.2f}x"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller workloads (growth to x4, n=10, 4 orders)")
    parser.add_argument("--against", metavar="REV", help="also run every workload in a git worktree of REV")
    parser.add_argument("--rows", default=",".join(ROWS), help=f"comma-separated subset of {','.join(ROWS)}")
    parser.add_argument("--json", metavar="FILE", help="also write the raw measurements to FILE")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--params", default="{}", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(WORKLOADS[args.child](json.loads(args.params))))
        return
    rows = [r.strip() for r in args.rows.split(",") if r.strip()]
    unknown = [r for r in rows if r not in ROWS]
    if unknown:
        parser.error(f"unknown rows {unknown}; rows: {', '.join(ROWS)}")
    if args.against:
        with worktree(args.against) as rev_tree:
            report(rows, args, rev_tree)
    else:
        report(rows, args, None)


def report(rows: list[str], args: argparse.Namespace, rev_tree: Path | None) -> None:
    print(f"simfunnel speed table ({'quick' if args.quick else 'full'}; {os.cpu_count()} CPUs, "
          f"load {os.getloadavg()[0]:.1f}); this tree {REPO}" + (f"; against {args.against}" if rev_tree else ""))  # fmt: skip
    raw: dict[str, Any] = {}
    for row in rows:
        what, before, goal = TABLE[row]
        mine = measure(row, REPO, args.quick, rev_tree)
        value, text = headline(row, mine)
        raw[row] = {"this": mine}
        line = f"| {what} | before {before} | goal {goal} | {text}"
        if rev_tree is not None:
            theirs = measure(row, rev_tree, args.quick, rev_tree)
            raw[row]["rev"] = theirs
            rev_value, rev_text = headline(row, theirs)
            line += f" | {args.against}: {rev_text} | ratio {ratio_text(row, value, rev_value)}"
            if row == "attribution" and "error" not in mine and "error" not in theirs:
                line += shapley_agreement(mine, theirs)
        print(line + " |", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(raw, indent=1))


if __name__ == "__main__":
    main()
