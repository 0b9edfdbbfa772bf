"""`make bench`: run the benchmark suite on SQLite and on PostgreSQL and print one table.

Each database gets a fresh data dir and runs in its own process, because Keydesk reads its
settings from the environment once, at import. PostgreSQL is used when a server answers at
--postgres (default postgresql://postgres@127.0.0.1:5432); a scratch database
keydesk_bench_<random> is created for the run and dropped afterwards.
"""

import argparse
import json
import os
import platform
import secrets
import shutil
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
LIST_P50_TARGET_MS = 50.0
VERIFY_TARGET_PER_S = 50_000
SIGN_IN_RATIO_TARGET = 0.9
INBOUND_TARGET_PER_S = 50
MFA_P99_TARGET_MS = 20
ACCESS_P50_TARGET_US = 20
ACCESS_P99_TARGET_US = 100
ACCESS_COMPILE_TARGET_S = 2.0

DEFAULT_SIZES = {
    "tickets": 100_000,
    "events": 100_000,
    "creates": 500,
    "list_requests": 200,
    "appends": 2000,
    "sign_ins": 100,
    "mfa_verifies": 200,
    "access_rules": 100_000,
    "access_decisions": 20_000,
    "outbound_mails": 1000,
    "inbound_messages": 1000,
}
QUICK = {
    "tickets": 5000,
    "events": 5000,
    "creates": 50,
    "list_requests": 40,
    "appends": 200,
    "sign_ins": 20,
    "mfa_verifies": 30,
    "access_rules": 10_000,
    "access_decisions": 2000,
    "outbound_mails": 100,
    "inbound_messages": 100,
}


def machine() -> dict:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.0f} GiB RAM"
                break
    except OSError:
        pass
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "memory": memory,
        "python": platform.python_version(),
    }


def clean_env(data_dir: str, database_url: str | None) -> dict:
    """The environment without Keydesk settings, plus this run's data dir and database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEYDESK_")}
    env["KEYDESK_DATA_DIR"] = data_dir
    env["KEYDESK_LOG_LEVEL"] = "WARNING"
    if database_url:
        env["KEYDESK_DATABASE_URL"] = database_url
    return env


def run_suite(label: str, database_url: str | None, sizes: dict, only: str) -> dict:
    data_dir = tempfile.mkdtemp(prefix="keydesk-bench-")
    output = Path(data_dir) / "results.json"
    try:
        command = [sys.executable, str(HERE / "suite.py"), str(output)]
        for key, value in sizes.items():
            command += [f"--{key.replace('_', '-')}", str(value)]
        if only:
            command += ["--only", only]
        print(f"== {label}: running (data dir {data_dir})", flush=True)
        done = subprocess.run(command, env=clean_env(data_dir, database_url), check=False)
        if done.returncode != 0 or not output.exists():
            return {"error": f"the suite exited with {done.returncode}"}
        return json.loads(output.read_text())
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def postgres_server(url: str):
    """A connection to the server's maintenance database, or None when nothing answers."""
    try:
        import psycopg
    except ImportError:
        return None
    try:
        return psycopg.connect(f"{url.rstrip('/')}/postgres", connect_timeout=3, autocommit=True)
    except psycopg.Error:
        return None


def run_postgres(url: str, sizes: dict, only: str) -> dict | None:
    server = postgres_server(url)
    if server is None:
        return None
    name = f"keydesk_bench_{secrets.token_hex(4)}"
    try:
        server.execute(f'CREATE DATABASE "{name}"')
        return run_suite("PostgreSQL", f"{url.rstrip('/')}/{name}", sizes, only)
    finally:
        # pytest-style test databases are not made here; only the scratch database goes.
        server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        server.close()


# Table


def _error(result) -> str | None:
    if isinstance(result, dict) and "error" in result:
        return "error"
    return None


def cell_rate(result, target: float | None = None) -> str:
    if result is None:
        return "—"
    if _error(result):
        return "error (below)"
    text = f"{result['per_second']:,.0f}/s"
    if target is not None:
        text += " PASS" if result["per_second"] >= target else " MISS"
    return text


def cell_latency(result, target_p50: float | None = None) -> str:
    if result is None:
        return "—"
    if _error(result):
        return "error (below)"
    text = f"{result['p50_ms']:.1f} / {result['p95_ms']:.1f} / {result['p99_ms']:.1f}"
    if target_p50 is not None:
        text += " PASS" if result["p50_ms"] < target_p50 else " MISS"
    return text


def cell_rate_and_latency(result, target_p99: float | None = None) -> str:
    if result is None:
        return "—"
    if _error(result):
        return "error (below)"
    text = (
        f"{result['per_second']:,.0f}/s, {result['p50_ms']:.1f} / {result['p95_ms']:.1f}"
        f" / {result['p99_ms']:.1f}"
    )
    if target_p99 is not None:
        text += " PASS" if result["p99_ms"] < target_p99 else " MISS"
    return text


def cell_sign_in(result, target: float | None = None) -> str:
    if result is None:
        return "—"
    if _error(result):
        return "error (below)"
    text = (
        f"{result['per_second']:.1f}/s vs {result['raw_verify_per_second']:.1f}/s"
        f" = {result['ratio']:.2f}"
    )
    if target is not None:
        text += " PASS" if result["ratio"] >= target else " MISS"
    return text


def cell_access_decision(result, target=None) -> str:
    if result is None:
        return "—"
    if _error(result):
        return "error (below)"
    met = result["p50_us"] < ACCESS_P50_TARGET_US and result["p99_us"] < ACCESS_P99_TARGET_US
    return f"{result['p50_us']:.1f} / {result['p99_us']:.1f} µs {'PASS' if met else 'MISS'}"


def cell_access_compile(result, target=None) -> str:
    if result is None:
        return "—"
    if _error(result):
        return "error (below)"
    met = result["compile_s"] < ACCESS_COMPILE_TARGET_S
    return (
        f"{result['compile_s']:.2f} s ({result['load_and_compile_s']:.2f} s with loading)"
        f" {'PASS' if met else 'MISS'}"
    )


def column_name(label: str, result: dict | None) -> str:
    if result and "database" in result:
        return f"{label} {result['database']['version']}"
    return label


def print_table(columns: dict[str, dict | None], sizes: dict) -> None:
    tickets, events = f"{sizes['tickets']:,}", f"{sizes['events']:,}"
    rows = [
        ("ticket create, POST /api/v1/tickets", "ticket_create", cell_rate, None, "—"),
        (
            f"ticket list, 50 of {tickets}, p50/p95/p99 ms",
            "ticket_list",
            cell_latency,
            LIST_P50_TARGET_MS,
            f"p50 < {LIST_P50_TARGET_MS:.0f} ms",
        ),
        ("  … status=open", "ticket_list_status", cell_latency, None, "—"),
        ("  … q=invoice (5% match)", "ticket_list_q", cell_latency, None, "—"),
        ("  … q=zebra (no match, full scan)", "ticket_list_q_nomatch", cell_latency, None, "—"),
        ("event append, record() per transaction", "event_append", cell_rate, None, "—"),
        (
            "sign-ins over HTTP vs raw Argon2id verify",
            "sign_in",
            cell_sign_in,
            SIGN_IN_RATIO_TARGET,
            f"ratio ≥ {SIGN_IN_RATIO_TARGET}",
        ),
        (
            "2FA verification (app code), /s and p50/p95/p99 ms",
            "mfa_verify",
            cell_rate_and_latency,
            MFA_P99_TARGET_MS,
            f"p99 < {MFA_P99_TARGET_MS} ms (SQLite)",
        ),
        (
            f"access decision, {sizes['access_rules']:,} rules, p50 / p99",
            "access",
            cell_access_decision,
            None,
            f"p50 < {ACCESS_P50_TARGET_US} µs, p99 < {ACCESS_P99_TARGET_US} µs",
        ),
        (
            f"access rules compile, {sizes['access_rules']:,} rules",
            "access",
            cell_access_compile,
            None,
            f"< {ACCESS_COMPILE_TARGET_S:.0f} s",
        ),
        (
            f"outbound mail to a local relay, {sizes['outbound_mails']:,} by one worker",
            "outbound_send",
            cell_rate,
            None,
            "—",
        ),
        (
            f"inbound mail, SMTP to ticket, {sizes['inbound_messages']:,} (listener + worker)",
            "inbound_mail",
            cell_rate,
            INBOUND_TARGET_PER_S,
            f"≥ {INBOUND_TARGET_PER_S}/s (SQLite)",
        ),
        (
            f"events verify over {events} events",
            "events_verify",
            cell_rate,
            VERIFY_TARGET_PER_S,
            f"≥ {VERIFY_TARGET_PER_S:,}/s",
        ),
    ]
    headers = ["benchmark", *columns, "target"]
    table = []
    for label, key, render, target, target_text in rows:
        cells = []
        for result in columns.values():
            if result is None:
                cells.append("skipped")
            elif "error" in result:
                cells.append("error")
            else:
                cells.append(render(result.get(key), target))
        table.append([label, *cells, target_text])
    widths = [max(len(str(r[i])) for r in [headers, *table]) for i in range(len(headers))]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    print(line.format(*headers).rstrip())
    print(line.format(*("-" * w for w in widths)).rstrip())
    for row in table:
        print(line.format(*row).rstrip())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--postgres",
        default="postgresql://postgres@127.0.0.1:5432",
        help="PostgreSQL server URL without a database name",
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, for trying it out")
    parser.add_argument("--json", help="also write every figure to this file")
    parser.add_argument(
        "--only",
        default="",
        help="run only these benchmarks, comma-separated (e.g. sign_in,inbound_mail)",
    )
    parser.add_argument("--sqlite-only", action="store_true", help="skip PostgreSQL")
    for key, value in DEFAULT_SIZES.items():
        parser.add_argument(
            f"--{key.replace('_', '-')}", type=int, default=None, help=f"default {value:,}"
        )
    args = parser.parse_args()
    sizes = dict(DEFAULT_SIZES)
    if args.quick:
        sizes.update(QUICK)
    sizes.update({k: getattr(args, k) for k in sizes if getattr(args, k) is not None})

    info = machine()
    print(
        f"Keydesk benchmarks, {date.today().isoformat()}: {info['cpus']} CPUs ({info['cpu']}), "
        f"{info['memory']}, Python {info['python']}",
        flush=True,
    )

    sqlite = run_suite("SQLite", None, sizes, args.only)
    postgres = None if args.sqlite_only else run_postgres(args.postgres, sizes, args.only)

    columns = {column_name("SQLite", sqlite): sqlite, column_name("PostgreSQL", postgres): postgres}

    print()
    print_table(columns, sizes)
    print()
    if args.sqlite_only:
        print("PostgreSQL: skipped (--sqlite-only)")
    elif postgres is None:
        print(f"PostgreSQL: skipped: PostgreSQL not reachable at {args.postgres}")
    for label, result in (("SQLite", sqlite), ("PostgreSQL", postgres)):
        for key, value in (result or {}).items():
            if key == "error":
                print(f"{label}: {value}")
            elif isinstance(value, dict) and "error" in value:
                print(f"{label}: {key}: {value['error']}")
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {"machine": info, "sizes": sizes, "sqlite": sqlite, "postgresql": postgres},
                indent=2,
            )
        )
    failed = any(
        isinstance(v, dict) and "error" in v
        for r in (sqlite, postgres)
        if r
        for v in [r, *r.values()]
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
