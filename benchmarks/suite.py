"""The benchmarks against one database; run.py starts this once per database.

Settings are read from the environment at import, so each database gets its own process:
KEYDESK_DATA_DIR and KEYDESK_DATABASE_URL are set by run.py before this starts. The figures
are written as JSON to the path given as the first argument.
"""

import argparse
import json
import os
import platform
import statistics
import sys
import time
import traceback
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "keydesk.settings")

import django

django.setup()

from access_bench import bench_access  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from mail_bench import bench_inbound  # noqa: E402
from outbound_bench import bench_outbound  # noqa: E402

from keydesk.accounts.api_tokens import token_create  # noqa: E402
from keydesk.accounts.services import user_create  # noqa: E402
from keydesk.core.process import freeze_startup_objects  # noqa: E402
from keydesk.eventlog.actions import EventAction  # noqa: E402
from keydesk.eventlog.models import Event, EventChainHead  # noqa: E402
from keydesk.eventlog.services import (  # noqa: E402
    _canonical,
    chain_hash,
    events_verify,
    record,
)
from keydesk.tenants.limits import tenant_lift_limits  # noqa: E402
from keydesk.tenants.models import Tenant  # noqa: E402
from keydesk.tenants.services import tenant_create  # noqa: E402
from keydesk.tickets.models import Ticket  # noqa: E402

TOPICS = [
    "Printer on the third floor jams",
    "Cannot sign in to the portal",
    "Invoice shows the wrong amount",
    "VPN drops every few minutes",
    "Request for a new laptop",
    "Password reset mail never arrives",
    "Shared drive is read-only",
    "Calendar invites arrive twice",
    "Monitor flickers after update",
    "Phone extension not working",
    "Refund for a duplicate order",
    "Badge does not open the door",
    "Spreadsheet macro fails",
    "Slow wifi in meeting room",
    "Access to the sales dashboard",
    "Mailbox is full",
    "Projector has no signal",
    "Order arrived damaged",
    "Software licence expired",
    "Keyboard missing keys",
]
DESCRIPTION = (
    "Hello team, since this morning the problem described in the subject happens again. "
    "I tried restarting and signing out and in again, but nothing changed. Could you take a "
    "look? It blocks my work with customers today. Thank you, and have a nice day."
)
STATUS_CYCLE = [
    "new",
    "open",
    "open",
    "pending",
    "solved",
    "solved",
    "closed",
    "open",
    "new",
    "pending",
]
PRIORITY_CYCLE = ["normal", "normal", "low", "high", "normal", "urgent", "normal", "low"]
TENANT_HOST = "{slug}.localhost"


def percentile(sorted_values: list[float], pct: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    index = max(0, min(len(sorted_values) - 1, round(pct / 100 * len(sorted_values)) - 1))
    return sorted_values[index]


def database_info() -> dict:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            version = cursor.fetchone()[0].split()[0]
        return {"vendor": "postgresql", "label": "PostgreSQL", "version": version}
    import sqlite3

    return {"vendor": "sqlite", "label": "SQLite", "version": sqlite3.sqlite_version}


def analyze() -> None:
    """Fresh planner statistics after a bulk load, as autovacuum would gather them soon after."""
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


class World:
    """The tenant the API benchmarks talk to: an agent with a token and a pool of contacts."""

    def __init__(self, slug: str, contacts: int):
        self.tenant, self.admin, _ = tenant_create(
            slug=slug, name=slug.title(), admin_email=f"admin@{slug}.example"
        )
        # A new tenant may create only a few people and tickets a day; these measure speed.
        tenant_lift_limits(tenant=self.tenant)
        self.agent = user_create(
            tenant=self.tenant,
            actor=None,
            email=f"agent@{slug}.example",
            kind="staff",
            role="agent",
            name="Avery Agent",
        )
        self.contacts = [
            user_create(
                tenant=self.tenant,
                actor=None,
                email=f"customer{i}@{slug}.example",
                kind="contact",
                name=f"Customer {i}",
            )
            for i in range(contacts)
        ]
        _, raw = token_create(user=self.agent, actor=None, name="benchmark")
        # enforce_csrf_checks: a bearer-token client sends no CSRF token, as real clients don't.
        self.client = Client(
            enforce_csrf_checks=True,
            HTTP_HOST=TENANT_HOST.format(slug=slug),
            HTTP_AUTHORIZATION=f"Bearer {raw}",
        )


def bench_ticket_create(world: World, count: int, warmup: int) -> dict:
    """POST /api/v1/tickets, one request after another in this one process."""

    def post(i: int):
        body = {
            "subject": f"{TOPICS[i % len(TOPICS)]} ({i})",
            "description": DESCRIPTION,
            "requester_email": world.contacts[i % len(world.contacts)].email,
        }
        return world.client.post("/api/v1/tickets", data=body, content_type="application/json")

    first = post(0)
    if first.status_code != 201:
        return {
            "error": f"POST /api/v1/tickets answered {first.status_code}, expected 201: "
            + " ".join(first.content[:300].decode(errors="replace").split())
        }
    for i in range(1, warmup):
        post(i)
    started = time.perf_counter()
    for i in range(warmup, warmup + count):
        response = post(i)
        if response.status_code != 201:
            return {"error": f"request {i} answered {response.status_code}"}
    elapsed = time.perf_counter() - started
    return {"requests": count, "seconds": elapsed, "per_second": count / elapsed}


def bulk_tickets(world: World, total: int) -> float:
    """Insert tickets #1..total in batches, as a long-lived tenant would hold them."""
    started = time.perf_counter()
    agents = [world.agent, world.admin, None, None]
    batch: list[Ticket] = []
    with transaction.atomic():
        for n in range(1, total + 1):
            batch.append(
                Ticket(
                    tenant=world.tenant,
                    number=n,
                    subject=f"{TOPICS[n % len(TOPICS)]} ({n})",
                    description=DESCRIPTION,
                    requester=world.contacts[n % len(world.contacts)],
                    assignee=agents[n % len(agents)],
                    status=STATUS_CYCLE[n % len(STATUS_CYCLE)],
                    priority=PRIORITY_CYCLE[n % len(PRIORITY_CYCLE)],
                    source="email" if n % 3 else "web",
                )
            )
            if len(batch) == 5000:
                Ticket.objects.bulk_create(batch)
                batch = []
        if batch:
            Ticket.objects.bulk_create(batch)
        Tenant.objects.filter(pk=world.tenant.pk).update(last_ticket_number=total)
    analyze()
    return time.perf_counter() - started


def bench_ticket_list(world: World, query: str, count: int, warmup: int) -> dict:
    """GET one page of 50; latency of each request in milliseconds."""
    url = f"/api/v1/tickets?page_size=50{query}"
    first = world.client.get(url)
    if first.status_code != 200:
        return {
            "error": f"GET {url} answered {first.status_code}, expected 200: "
            + " ".join(first.content[:300].decode(errors="replace").split())
        }
    body = first.json()
    items = body.get("items", body) if isinstance(body, dict) else body
    returned = len(items) if isinstance(items, list) else None
    for _ in range(warmup):
        world.client.get(url)
    timings = []
    for _ in range(count):
        started = time.perf_counter()
        response = world.client.get(url)
        timings.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            return {"error": f"GET {url} answered {response.status_code}"}
    timings.sort()
    return {
        "url": url,
        "requests": count,
        "returned": returned,
        "p50_ms": percentile(timings, 50),
        "p95_ms": percentile(timings, 95),
        "p99_ms": percentile(timings, 99),
        "mean_ms": statistics.fmean(timings),
    }


def bench_event_append(world: World, count: int) -> dict:
    """record() calls, each in its own transaction as in real use."""
    started = time.perf_counter()
    for i in range(count):
        with transaction.atomic():
            record(
                world.tenant,
                world.agent,
                EventAction.TICKET_STATUS_CHANGED,
                ("ticket", i, f"#{i} {TOPICS[i % len(TOPICS)]}"),
                status=["new", "open"],
            )
    elapsed = time.perf_counter() - started
    return {"events": count, "seconds": elapsed, "per_second": count / elapsed}


def build_chain(total: int) -> tuple[Tenant, float]:
    """A tenant holding `total` chained events, computed with the log's own hash functions."""
    started = time.perf_counter()
    tenant = Tenant.objects.create(slug="chain", name="Chain")
    actor = user_create(
        tenant=tenant, actor=None, email="agent@chain.example", kind="staff", role="agent"
    )
    # user_create recorded one event already; the chain continues from its head.
    head = EventChainHead.objects.get(tenant=tenant)
    prev, seq = head.last_hash, head.last_seq
    start = datetime.now(UTC) - timedelta(days=30)
    batch: list[Event] = []
    with transaction.atomic():
        while seq < total:
            seq += 1
            created_at = start + timedelta(milliseconds=seq * 20)
            fields = {
                "seq": seq,
                "created_at": created_at,
                "actor_id": actor.pk,
                "actor_label": actor.email,
                "action": EventAction.TICKET_STATUS_CHANGED.value,
                "target_type": "ticket",
                "target_id": str(seq),
                "target_label": f"#{seq} {TOPICS[seq % len(TOPICS)]}",
                "ip": f"192.0.2.{seq % 250 + 1}",
                "details": {"status": ["new", "open"]},
            }
            row_hash = chain_hash(prev, _canonical(tenant_id=tenant.pk, **fields))
            batch.append(Event(tenant=tenant, prev_hash=prev, hash=row_hash, **fields))
            prev = row_hash
            if len(batch) == 5000:
                Event.objects.bulk_create(batch)
                batch = []
        if batch:
            Event.objects.bulk_create(batch)
        EventChainHead.objects.filter(tenant=tenant).update(last_seq=seq, last_hash=prev)
    analyze()
    return tenant, time.perf_counter() - started


def bench_verify(tenant: Tenant, total: int, rounds: int) -> dict:
    """`events verify` over the whole chain; the median of a few rounds."""
    runs = []
    for _ in range(rounds):
        started = time.perf_counter()
        report = events_verify(tenant=tenant)
        runs.append(time.perf_counter() - started)
        if not report.ok or report.count != total:
            return {"error": f"verify failed: ok={report.ok} count={report.count} {report.reason}"}
    seconds = statistics.median(runs)
    return {"events": total, "seconds": seconds, "per_second": total / seconds, "rounds": rounds}


def bench_sign_in(count: int) -> dict:
    """Full HTTP password sign-ins (GET the form, POST it, follow the redirect) per second,
    against raw Argon2id verifies at the same parameters, in the same process."""
    from argon2 import PasswordHasher
    from django.contrib.auth.hashers import get_hasher

    password = "a benchmark passphrase"
    world = World("signin", contacts=0)
    user_create(
        tenant=world.tenant,
        actor=None,
        email="person@signin.example",
        kind="staff",
        role="agent",
        password=password,
    )
    hasher = get_hasher()
    encoded = hasher.encode(password, hasher.salt()).removeprefix(hasher.algorithm)
    raw = PasswordHasher(
        time_cost=hasher.time_cost, memory_cost=hasher.memory_cost, parallelism=hasher.parallelism
    )
    # One client, as one server process: its handler and middleware load once, like gunicorn's,
    # and what is loaded by then is frozen for the garbage collector, as keydesk.wsgi does.
    client = Client(enforce_csrf_checks=True, HTTP_HOST=TENANT_HOST.format(slug="signin"))
    freeze_startup_objects()

    def sign_in() -> int:
        # A new session each time, on a browser seen before (its device cookie stays).
        device = client.cookies.get("keydesk_device")
        client.cookies.clear()
        if device is not None:
            client.cookies["keydesk_device"] = device.value
        client.get("/login")
        token = client.cookies["csrftoken"].value
        # Form-encoded, as a browser posts the sign-in form.
        response = client.post(
            "/login",
            urlencode(
                {
                    "email": "person@signin.example",
                    "password": password,
                    "csrfmiddlewaretoken": token,
                }
            ),
            content_type="application/x-www-form-urlencoded",
            follow=True,
        )
        return response.status_code

    if sign_in() != 200:
        return {"error": "sign-in did not end on a page"}
    # Sign-ins and raw verifies alternate, so a virtual machine's drift in speed during the
    # run weighs on both sides of the ratio alike.
    http_seconds = raw_seconds = 0.0
    for _ in range(count):
        started = time.perf_counter()
        raw.verify(encoded, password)
        raw_seconds += time.perf_counter() - started
        started = time.perf_counter()
        if sign_in() != 200:
            return {"error": "a sign-in failed"}
        http_seconds += time.perf_counter() - started
    http_rate = count / http_seconds
    raw_rate = count / raw_seconds
    return {
        "per_second": http_rate,
        "raw_verify_per_second": raw_rate,
        "ratio": http_rate / raw_rate,
        "parameters": f"m={hasher.memory_cost} KiB, t={hasher.time_cost}, p={hasher.parallelism}",
    }


def bench_mfa_verify(count: int) -> dict:
    """POST /login/verify with an authenticator-app code: requests per second and latency.

    Each verification needs a fresh sign-in at the password step, which is done (and not
    timed) before it; the app's last accepted step is reset between runs so the same
    30-second window can serve every request without tripping the replay guard.
    """
    import pyotp

    from keydesk.mfa import totp
    from keydesk.mfa.models import Authenticator
    from keydesk.mfa.services import totp_enable

    password = "a benchmark passphrase"
    world = World("mfa", contacts=0)
    person = user_create(
        tenant=world.tenant,
        actor=None,
        email="person@mfa.example",
        kind="staff",
        role="agent",
        password=password,
    )
    secret = totp.new_secret()
    totp_enable(user=person, actor=person, secret=secret, code=pyotp.TOTP(secret).now())
    client = Client(enforce_csrf_checks=True, HTTP_HOST=TENANT_HOST.format(slug="mfa"))
    freeze_startup_objects()  # as keydesk.wsgi does in a server process
    timings = []
    for i in range(count + 5):
        device = client.cookies.get("keydesk_device")
        client.cookies.clear()
        if device is not None:
            client.cookies["keydesk_device"] = device.value
        client.get("/login")
        token = client.cookies["csrftoken"].value
        client.post(
            "/login",
            {"email": "person@mfa.example", "password": password, "csrfmiddlewaretoken": token},
        )
        Authenticator.objects.filter(user=person, type="totp").update(last_step=0)
        data = {
            "method": "totp",
            "action": "verify",
            "code": pyotp.TOTP(secret).now(),
            "csrfmiddlewaretoken": token,
        }
        started = time.perf_counter()
        response = client.post("/login/verify", data)
        elapsed = time.perf_counter() - started
        if response.status_code != 302 or response["Location"] != "/tickets/":
            return {"error": f"verification answered {response.status_code}"}
        if i >= 5:  # warm-up
            timings.append(elapsed * 1000)
    timings.sort()
    return {
        "per_second": 1000 / statistics.mean(timings),
        "p50_ms": percentile(timings, 50),
        "p95_ms": percentile(timings, 95),
        "p99_ms": percentile(timings, 99),
    }


def step(results: dict, name: str, func, *args) -> None:
    """Run one benchmark; a failure is reported as that benchmark's error and the rest go on."""
    print(f"  {name} …", file=sys.stderr, flush=True)
    try:
        results[name] = func(*args)
    except Exception as exc:  # the run goes on and reports what failed
        traceback.print_exc()
        results[name] = {"error": f"{type(exc).__name__}: {exc}"}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("output")
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--creates", type=int, default=500)
    parser.add_argument("--list-requests", type=int, default=200)
    parser.add_argument("--appends", type=int, default=2000)
    parser.add_argument("--sign-ins", type=int, default=100)
    parser.add_argument("--mfa-verifies", type=int, default=200)
    parser.add_argument("--access-rules", type=int, default=100_000)
    parser.add_argument("--access-decisions", type=int, default=20_000)
    parser.add_argument("--outbound-mails", type=int, default=1000)
    parser.add_argument("--inbound-messages", type=int, default=1000)
    parser.add_argument("--only", default="", help="comma-separated benchmark names")
    args = parser.parse_args()
    only = {name for name in args.only.split(",") if name}

    def wanted(*names: str) -> bool:
        return not only or bool(only.intersection(names))

    call_command("migrate", interactive=False, verbosity=0)
    call_command("createcachetable", verbosity=0)
    results: dict = {
        "database": database_info(),
        "python": platform.python_version(),
        "django": django.get_version(),
        "sizes": vars(args) | {"output": None, "only": None},
    }
    print(f"{results['database']['label']} {results['database']['version']}:", file=sys.stderr)

    if wanted("ticket_create", "event_append"):
        create_world = World("create", contacts=20)
    if wanted("ticket_create"):
        step(results, "ticket_create", bench_ticket_create, create_world, args.creates, 20)

    queries = {
        "ticket_list": "",
        "ticket_list_status": "&status=open",
        "ticket_list_q": "&q=invoice",
        "ticket_list_q_nomatch": "&q=zebra",
    }
    if wanted(*queries):
        big = World("big", contacts=200)
        step(results, "ticket_bulk_load_s", bulk_tickets, big, args.tickets)
        for name, query in queries.items():
            step(results, name, bench_ticket_list, big, query, args.list_requests, 10)

    if wanted("event_append"):
        step(results, "event_append", bench_event_append, create_world, args.appends)
    if wanted("sign_in"):
        step(results, "sign_in", bench_sign_in, args.sign_ins)
    if wanted("mfa_verify"):
        step(results, "mfa_verify", bench_mfa_verify, args.mfa_verifies)
    if wanted("access"):
        access_world = World("access", contacts=0)
        step(
            results,
            "access",
            bench_access,
            access_world.tenant,
            args.access_rules,
            args.access_decisions,
        )
    if wanted("outbound_send"):
        outbound_world = World("outbound", contacts=20)
        step(results, "outbound_send", bench_outbound, outbound_world, args.outbound_mails)
    if wanted("inbound_mail"):
        inbound_world = World("inbound", contacts=50)
        step(results, "inbound_mail", bench_inbound, inbound_world, args.inbound_messages)

    if wanted("events_verify"):
        chain = {}
        step(chain, "build", build_chain, args.events)
        if "error" in chain["build"]:
            results["events_verify"] = chain["build"]
        else:
            tenant, results["event_bulk_load_s"] = chain["build"]
            step(results, "events_verify", bench_verify, tenant, args.events, 3)

    with open(args.output, "w") as handle:
        json.dump(results, handle, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
