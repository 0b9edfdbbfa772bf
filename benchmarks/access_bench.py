"""Access lists at scale: compiling 100,000 rules of mixed kinds, and the decision's latency."""

import csv
import io
import random
import statistics
import time

from django.utils import timezone

from keydesk.access.csv_format import CSV_COLUMNS
from keydesk.access.engine import decide, rules_compile, subject_from
from keydesk.access.models import ACTIONS
from keydesk.access.selectors import rules_compiled
from keydesk.access.services import rules_clear, rules_import_csv
from keydesk.access.values import value_normalise

LANGUAGES = ["fr", "de", "es", "it", "pt", "nl", "pl", "sv", "ja", "zh", "ar", "tr", "ko"]


def _value(rng: random.Random, kind: str, n: int) -> tuple[str, bool]:
    if kind == "ip":
        if n % 3 == 0:
            return f"2001:db8:{n % 65536:x}:{(n // 65536) % 65536:x}::/64", False
        prefix = rng.choice([32, 32, 24, 16])
        address = f"{10 + n % 200}.{(n // 200) % 256}.{(n // 51200) % 256}.{n % 251}"
        return f"{address}/{prefix}", False
    if kind == "domain":
        return f"customer{n}.example", n % 2 == 0
    if kind == "email":
        return f"person{n}@customer{n % 5000}.example", False
    return f"{rng.choice(LANGUAGES)}-x{n % 500}", False


def _rules(count: int, seed: int = 7) -> list[dict]:
    """`count` rules: 40% IP networks (a third IPv6), 25% domains, 25% emails, 10% languages;
    deny rules, but for a tenth of the networks, which allow staff to sign in."""
    rng = random.Random(seed)
    kinds = ["ip"] * 40 + ["domain"] * 25 + ["email"] * 25 + ["language"] * 10
    rules = []
    for n in range(count):
        kind = kinds[n % 100]
        value, subdomains = _value(rng, kind, n)
        # Allow lists as tenants use them: staff sign in from their offices' networks.
        office = kind == "ip" and n % 10 == 0
        rules.append(
            {
                "id": n + 1,
                "list_type": "allow" if office else "deny",
                "kind": kind,
                "value": value_normalise(kind, value),
                "include_subdomains": subdomains,
                "actions": ["login"] if office else rng.sample(ACTIONS, rng.randint(0, 2)),
                "audience": "staff" if office else rng.choice(["both", "staff", "contacts"]),
                "expires_at": None,
            }
        )
    return rules


def _subjects(count: int, seed: int = 11) -> list[dict]:
    """Requests of which about half meet some rule."""
    rng = random.Random(seed)
    subjects = []
    for n in range(count):
        hit = rng.randrange(100_000)
        subjects.append(
            {
                "ip": rng.choice(
                    [
                        f"{10 + hit % 200}.{(hit // 200) % 256}.{(hit // 51200) % 256}.{hit % 251}",
                        f"2001:db8:{hit % 65536:x}:0::{n % 9999:x}",
                        f"198.51.100.{n % 256}",
                    ]
                ),
                "email": rng.choice(
                    [f"person{hit}@customer{hit % 5000}.example", f"x{n}@eu.customer{hit}.example"]
                ),
                "language": rng.choice([f"{rng.choice(LANGUAGES)}-x{hit % 500}", "en-GB", None]),
                "action": rng.choice(ACTIONS),
                "audience": rng.choice(["staff", "contacts"]),
            }
        )
    return subjects


def _csv(rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for r in rows:
        writer.writerow(
            [
                r["list_type"],
                r["kind"],
                r["value"],
                "yes" if r["include_subdomains"] else "no",
                " ".join(r["actions"]),
                r["audience"],
                "",
                "",
            ]
        )
    return out.getvalue()


def bench_access(tenant, rule_count: int, decisions: int) -> dict:
    """Compile time (in memory, and from the database) and the decision's latency."""
    rows = _rules(rule_count)
    started = time.perf_counter()
    compiled = rules_compile(rows, now=timezone.now())
    compile_s = time.perf_counter() - started

    started = time.perf_counter()
    rules_import_csv(tenant=tenant, actor=None, text=_csv(rows))
    import_s = time.perf_counter() - started
    started = time.perf_counter()
    from_database = rules_compiled(tenant=tenant)
    load_and_compile_s = time.perf_counter() - started
    if from_database.rule_count != rule_count:
        return {"error": f"compiled {from_database.rule_count} of {rule_count} rules"}

    requests = _subjects(decisions)
    prepared = [
        (subject_from(ip=r["ip"], email=r["email"], language=r["language"]), r) for r in requests
    ]
    timings, refused = [], 0
    for subject, request in prepared:
        started = time.perf_counter_ns()
        decision = decide(
            compiled, action=request["action"], audience=request["audience"], subject=subject
        )
        timings.append(time.perf_counter_ns() - started)
        refused += not decision.allowed
    # The same, including turning the raw request (IP text, email, language) into a subject.
    with_parsing = []
    for request in requests:
        started = time.perf_counter_ns()
        decide(
            compiled,
            action=request["action"],
            audience=request["audience"],
            subject=subject_from(
                ip=request["ip"], email=request["email"], language=request["language"]
            ),
        )
        with_parsing.append(time.perf_counter_ns() - started)
    rules_clear(tenant=tenant)
    timings.sort()
    with_parsing.sort()
    return {
        "rules": rule_count,
        "decisions": decisions,
        "refused_share": refused / decisions,
        "compile_s": compile_s,
        "load_and_compile_s": load_and_compile_s,
        "csv_import_s": import_s,
        "p50_us": timings[len(timings) // 2] / 1000,
        "p99_us": timings[int(len(timings) * 0.99)] / 1000,
        "mean_us": statistics.fmean(timings) / 1000,
        "with_parsing_p50_us": with_parsing[len(with_parsing) // 2] / 1000,
        "with_parsing_p99_us": with_parsing[int(len(with_parsing) * 0.99)] / 1000,
    }
