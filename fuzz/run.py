"""Run netwire's fuzz targets.

::

    python fuzz/run.py --list
    python fuzz/run.py http11 --runs 1000000          # atheris, coverage-guided (by hand)
    python fuzz/run.py url --runs 1000000 --keep-going # record every distinct finding, don't stop
    python fuzz/run.py all --smoke                     # a few seconds each, built-in mutator (CI)
    python fuzz/run.py http11 --engine builtin --seconds 30
    python fuzz/run.py url --engine hypothesis --runs 20000  # structured inputs (fuzz/hypothesis_targets.py)
    python fuzz/run.py http11 --replay crash-file      # run one input and show what it raises

Engines: ``atheris`` (libFuzzer through atheris; ``pip install atheris``) mutates with coverage
feedback, starting from the seed corpus ``fuzz/corpus/<target>/``; new interesting inputs go
to a scratch corpus under ``--workdir`` so the repository's corpus stays small. ``builtin`` is
a seeded random mutator with no dependency, used by the CI smoke run. ``hypothesis`` draws
structured inputs (HTTP responses from grammar pieces, URL-ish strings...) from
``fuzz/hypothesis_targets.py``.

A finding (an exception a target's contract does not allow) stops the run unless
``--keep-going``: then each distinct finding (by exception type and first line of its message,
numbers and quoted text folded) is written once to ``<workdir>/<target>/findings/`` and the run
goes on. The last line printed is ``TARGET: N executions, F findings (D distinct), T s``.
"""

from __future__ import annotations

import argparse
import atexit
import hashlib
import os
import random
import re
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
# The target names, known without importing the targets: atheris must import netwire itself,
# under its instrumentation, or it sees no coverage. (tests/fuzz_smoke checks this list.)
NAMES = ("http11", "chunked", "decoders", "url", "parse", "robots", "hpack", "h2frames")
DEFAULT_WORKDIR = Path(os.environ.get("NETWIRE_FUZZ_WORKDIR", "/tmp/netwire-fuzz"))
MAX_LEN = 4096


def _load_targets(instrument: bool) -> dict[str, object]:
    sys.path.insert(0, str(HERE))
    if instrument:
        import atheris  # type: ignore[import-untyped, unused-ignore]

        with atheris.instrument_imports(include=["netwire"]):
            import fuzz_targets
    else:
        import fuzz_targets
    return dict(fuzz_targets.TARGETS)


class Stats:
    """Executions and findings of one run; distinct findings saved to ``findings_dir``."""

    def __init__(self, name: str, findings_dir: Path, keep_going: bool) -> None:
        self.name = name
        self.dir = findings_dir
        self.keep_going = keep_going
        self.runs = 0
        self.findings = 0
        self.distinct: dict[str, bytes] = {}
        self.started = time.monotonic()

    @staticmethod
    def signature(exc: BaseException) -> str:
        first = (str(exc).splitlines() or [""])[0]
        folded = re.sub(r"'[^']*'|\"[^\"]*\"|\d+", "_", first)[:160]
        return f"{type(exc).__name__}: {folded}"

    def record(self, data: bytes, exc: BaseException) -> None:
        self.findings += 1
        sig = self.signature(exc)
        if sig in self.distinct:
            return
        self.distinct[sig] = data
        self.dir.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha1(data).hexdigest()[:16]
        (self.dir / f"{digest}.bin").write_bytes(data)
        (self.dir / f"{digest}.txt").write_text(
            f"{sig}\n\n{''.join(traceback.format_exception(exc))}\ninput: {data!r}\n"
        )
        print(f"\n[{self.name}] finding #{len(self.distinct)}: {sig}\n    input {data[:300]!r}", flush=True)

    def summary(self) -> str:
        return (
            f"{self.name}: {self.runs} executions, {self.findings} findings "
            f"({len(self.distinct)} distinct), {time.monotonic() - self.started:.1f} s"
        )


def wrap(fn: Callable[[bytes], None], stats: Stats) -> Callable[[bytes], None]:
    def one(data: bytes) -> None:
        stats.runs += 1
        try:
            fn(data)
        except Exception as exc:
            stats.record(data, exc)
            if not stats.keep_going:
                raise

    return one


# -- the built-in mutator -------------------------------------------------------------------------


def mutate(rng: random.Random, data: bytes, pool: list[bytes], tokens: tuple[bytes, ...]) -> bytes:
    """One to four random edits of ``data``: flips, inserts, deletes, copies, tokens, splices."""
    buf = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(9)
        pos = rng.randint(0, len(buf))
        if op == 0 and buf:
            i = rng.randrange(len(buf))
            buf[i] ^= 1 << rng.randrange(8)
        elif op == 1:
            buf[pos:pos] = bytes([rng.randrange(256)])
        elif op == 2 and buf:
            del buf[pos : pos + rng.randint(1, 16)]
        elif op == 3 and buf:
            i = rng.randrange(len(buf))
            buf[pos:pos] = buf[i : i + rng.randint(1, 32)]
        elif op == 4 and tokens:
            buf[pos:pos] = rng.choice(tokens)
        elif op == 5 and pool:
            other = rng.choice(pool)
            cut = rng.randint(0, len(other))
            buf = buf[:pos] + bytearray(other[cut:])
        elif op == 6 and buf:
            i = rng.randrange(len(buf))
            buf[i] = rng.choice(b"\r\n\x00 \t:;,%/[]09afAF\x80\xff")
        elif op == 7 and buf:
            buf[0] = rng.randrange(256)  # the control byte: method, limits, stack, split...
        elif op == 8 and buf and len(buf) < MAX_LEN // 2:
            i = rng.randrange(len(buf))
            piece = buf[i : i + rng.randint(1, 8)]
            buf[pos:pos] = piece * rng.randint(2, 64)
    return bytes(buf[:MAX_LEN])


def run_builtin(target: object, stats: Stats, runs: int | None, seconds: float | None, seed: int) -> None:
    fn = wrap(target.fn, stats)  # type: ignore[attr-defined]
    seeds: list[bytes] = target.seeds() or [b""]  # type: ignore[attr-defined]
    tokens: tuple[bytes, ...] = target.tokens  # type: ignore[attr-defined]
    rng = random.Random(seed)
    for s in seeds:
        fn(s)
    # Inputs the mutator keeps building on: the seeds, plus a few of its own recent inputs.
    pool = list(seeds)
    end = None if seconds is None else time.monotonic() + seconds
    while (runs is None or stats.runs < runs) and (end is None or time.monotonic() < end):
        data = mutate(rng, rng.choice(pool), pool, tokens)
        fn(data)
        if rng.random() < 0.01:
            if len(pool) > 4 * len(seeds) + 64:
                pool.pop(len(seeds) + rng.randrange(len(pool) - len(seeds)))
            pool.append(data)


def run_hypothesis(target: object, stats: Stats, runs: int | None, seconds: float | None, seed: int) -> None:
    import hypothesis_targets
    from hypothesis import HealthCheck, given, settings
    from hypothesis import seed as hseed

    fn = wrap(target.fn, stats)  # type: ignore[attr-defined]
    strategy = hypothesis_targets.STRATEGIES[target.name]  # type: ignore[attr-defined]
    end = None if seconds is None else time.monotonic() + seconds

    @hseed(seed)
    @settings(max_examples=runs or 10**9, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(strategy)
    def drive(data: bytes) -> None:
        if end is not None and time.monotonic() > end:
            return
        fn(data)

    drive()


# -- atheris ----------------------------------------------------------------------------------------


def run_atheris(name: str, args: argparse.Namespace) -> None:
    import atheris  # type: ignore[import-untyped, unused-ignore]

    if "netwire" in sys.modules:
        raise RuntimeError("netwire was imported before atheris could instrument it")
    targets = _load_targets(instrument=True)
    target = targets[name]
    work = Path(args.workdir) / name
    scratch = work / "corpus"
    scratch.mkdir(parents=True, exist_ok=True)
    stats = Stats(name, work / "findings", args.keep_going)
    fn = wrap(target.fn, stats)  # type: ignore[attr-defined]
    tokens: tuple[bytes, ...] = target.tokens  # type: ignore[attr-defined]
    dict_file = work / "tokens.dict"
    dict_file.write_text("".join('"' + "".join(f"\\x{b:02x}" for b in t) + '"\n' for t in tokens))
    argv = [sys.argv[0], str(scratch), str(target.corpus), f"-max_len={MAX_LEN}",  # type: ignore[attr-defined]
            f"-dict={dict_file}", f"-artifact_prefix={work}/", "-print_final_stats=1", f"-seed={args.seed or 1}"]
    if args.runs is not None:
        argv.append(f"-runs={args.runs}")
    if args.seconds is not None:
        argv.append(f"-max_total_time={int(max(args.seconds, 1))}")
    # libFuzzer ends the process with exit(); this still prints our own count.
    atexit.register(lambda: print(stats.summary(), flush=True))
    atheris.Setup(argv, fn)
    atheris.Fuzz()


def replay(name: str, path: str) -> int:
    target = _load_targets(instrument=False)[name]
    data = Path(path).read_bytes()
    try:
        target.fn(data)  # type: ignore[attr-defined]
    except Exception:
        traceback.print_exc()
        return 1
    print(f"{name}: {path} passes")
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("targets", nargs="*", help="target names, or 'all'")
    p.add_argument("--list", action="store_true", help="list the targets")
    p.add_argument("--runs", type=int, help="stop after this many executions")
    p.add_argument("--seconds", type=float, help="stop after this many seconds")
    p.add_argument("--engine", choices=("atheris", "builtin", "hypothesis"), help="default: atheris if installed")
    p.add_argument("--smoke", action="store_true", help="CI mode: built-in engine, 4 s per target")
    p.add_argument("--keep-going", action="store_true", help="record distinct findings and go on")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workdir", default=str(DEFAULT_WORKDIR))
    p.add_argument("--replay", metavar="FILE", help="run the one input in FILE")
    args = p.parse_args(argv)

    if args.list:
        for t in _load_targets(instrument=False).values():
            print(f"{t.name:10} {t.about}")  # type: ignore[attr-defined]
        return 0
    names = list(NAMES) if args.targets in ([], ["all"]) else args.targets
    unknown = [n for n in names if n not in NAMES]
    if unknown:
        p.error(f"unknown target(s) {', '.join(unknown)}; --list shows them")
    if args.replay:
        return replay(names[0], args.replay)
    engine = args.engine
    if args.smoke:
        engine = "builtin"
        if args.seconds is None and args.runs is None:
            args.seconds = 4.0
    if engine is None:
        try:
            import atheris  # type: ignore[import-untyped, unused-ignore]  # noqa: F401

            engine = "atheris"
        except ImportError:
            engine = "builtin"
    failed = 0
    if engine == "atheris":
        if len(names) == 1:
            run_atheris(names[0], args)
            return 0
        # libFuzzer owns its process: one child per target.
        for name in names:
            cmd = [sys.executable, __file__, name, "--engine", "atheris", "--workdir", args.workdir, "--seed", str(args.seed)]
            for flag, value in (("--runs", args.runs), ("--seconds", args.seconds)):
                if value is not None:
                    cmd += [flag, str(value)]
            if args.keep_going:
                cmd.append("--keep-going")
            failed += subprocess.call(cmd) != 0
        return 1 if failed else 0
    targets = _load_targets(instrument=False)
    for name in names:
        stats = Stats(name, Path(args.workdir) / name / "findings", args.keep_going)
        try:
            if engine == "hypothesis":
                run_hypothesis(targets[name], stats, args.runs, args.seconds, args.seed)
            else:
                run_builtin(targets[name], stats, args.runs, args.seconds, args.seed)
        except Exception:
            traceback.print_exc()
        print(stats.summary(), flush=True)
        failed += stats.findings > 0
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
