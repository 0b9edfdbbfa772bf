"""The `keydesk` command: set-up, tenants, people, tokens, the event log, and serving."""

import argparse
import os
import signal
import subprocess
import sys

EXIT_OK, EXIT_CHECK_FAILED, EXIT_BAD_INPUT = 0, 1, 2


class UsageError(Exception):
    """Bad usage or input: one line on stderr, exit 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(f"{self.prog}: {message}")


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "keydesk.settings")
    import django

    django.setup()


def _read_stdin_secret() -> str:
    value = sys.stdin.readline().rstrip("\r\n")
    if not value:
        raise UsageError("expected a password on standard input")
    return value


def _tenant(slug: str):
    from keydesk.tenants.selectors import tenant_get_by_slug

    tenant = tenant_get_by_slug(slug=slug)
    if tenant is None:
        raise UsageError(f"unknown tenant {slug!r}")
    return tenant


def cmd_migrate(args) -> int:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0 if args.quiet else 1)
    call_command("createcachetable", verbosity=0)
    return EXIT_OK


def cmd_tenant_create(args) -> int:
    from keydesk.tenants.selectors import tenant_get_by_slug
    from keydesk.tenants.services import tenant_create

    if args.if_not_exists and tenant_get_by_slug(slug=args.slug.strip().lower()) is not None:
        return EXIT_OK
    password = _read_stdin_secret() if args.admin_password_stdin else None
    tenant, admin, generated = tenant_create(
        slug=args.slug, name=args.name, admin_email=args.admin_email, admin_password=password
    )
    print(f"Created tenant {tenant.slug} ({tenant.name}) with admin {admin.email}.")
    if generated:
        print("The admin's initial password is shown this once; store it now:")
        print(f"  email:    {admin.email}")
        print(f"  password: {generated}")
    return EXIT_OK


def cmd_tenant_list(args) -> int:
    from keydesk.tenants.selectors import tenant_list

    for tenant in tenant_list():
        print(f"{tenant.slug}\t{tenant.status}\t{tenant.name}")
    return EXIT_OK


def cmd_tenant_lift_limits(args) -> int:
    from keydesk.tenants.limits import tenant_lift_limits

    tenant = _tenant(args.slug)
    if tenant_lift_limits(tenant=tenant):
        print(f"Lifted the new-account creation limits of {tenant.slug}.")
    else:
        print(f"{tenant.slug} has no creation limits to lift.")
    return EXIT_OK


def cmd_user_create(args) -> int:
    from keydesk.accounts.services import user_create

    tenant = _tenant(args.tenant)
    password = _read_stdin_secret() if args.password_stdin else None
    user = user_create(
        tenant=tenant,
        actor=None,
        email=args.email,
        kind=args.kind,
        role=args.role or "",
        name=args.name or "",
        is_guest=args.guest,
        password=password,
    )
    print(f"Created {user.kind} {user.email} in {tenant.slug}.")
    return EXIT_OK


def cmd_token_create(args) -> int:
    from keydesk.accounts.api_tokens import token_create
    from keydesk.accounts.models import User
    from keydesk.accounts.services import normalize_email

    tenant = _tenant(args.tenant)
    email = normalize_email(args.email)
    user = User.objects.filter(tenant=tenant, email=email).first()
    if user is None:
        raise UsageError(f"no person {email} in tenant {tenant.slug}")
    token, plaintext = token_create(user=user, actor=None, name=args.name or "")
    print(f"Created API token {token.name!r} for {user.email}; it is shown this once.")
    print(plaintext)
    return EXIT_OK


def cmd_events_verify(args) -> int:
    from keydesk.eventlog.services import events_verify

    report = events_verify(tenant=_tenant(args.tenant))
    if report.ok:
        print(f"ok: {report.count} events")
        return EXIT_OK
    print(f"broken: {report.reason} ({report.count} events verified before it)")
    return EXIT_CHECK_FAILED


def cmd_worker(args) -> int:
    """The task worker, with the daily jobs enqueued beside it."""
    import threading

    from django.core.management import call_command

    from keydesk.core.process import freeze_startup_objects
    from keydesk.core.schedule import run_scheduler
    from keydesk.core.worker import keep_database_connections

    keep_database_connections()
    freeze_startup_objects()
    stop = threading.Event()
    threading.Thread(target=run_scheduler, args=(stop,), daemon=True, name="scheduler").start()
    try:
        call_command("db_worker")
    finally:
        stop.set()
    return EXIT_OK


def cmd_tap_purge(args) -> int:
    from keydesk.tap.services import tap_purge

    print(f"Deleted {tap_purge()} passes that expired over 30 days ago.")
    return EXIT_OK


def cmd_access_clear(args) -> int:
    from keydesk.access.services import rules_clear

    tenant = _tenant(args.tenant)
    removed = rules_clear(tenant=tenant)
    print(f"Removed {removed} access rules from {tenant.slug}.")
    return EXIT_OK


def cmd_manage(args) -> int:
    from django.core.management import execute_from_command_line

    execute_from_command_line(["keydesk manage", *args.rest])
    return EXIT_OK


def cmd_mail_listen(args) -> int:
    """The inbound SMTP listener alone, on KEYDESK_SMTP_LISTEN, until Ctrl-C or SIGTERM."""
    from django.conf import settings

    from keydesk.core.process import freeze_startup_objects
    from keydesk.mail.inbound.listener import listen_until_signalled

    host, port = settings.SMTP_LISTEN_HOST, settings.SMTP_LISTEN_PORT
    freeze_startup_objects()
    try:
        listen_until_signalled(
            host=host,
            port=port,
            ready=lambda: print(f"Keydesk receives mail on {host}:{port}.", flush=True),
        )
    except OSError as exc:
        raise UsageError(f"keydesk: cannot listen for mail on {host}:{port}: {exc}") from None
    return EXIT_OK


def cmd_run(args) -> int:
    """Serve the web app with gunicorn, the task worker and the mail listener; Ctrl-C stops all."""
    from django.conf import settings

    host = os.environ.get("KEYDESK_HOST", "127.0.0.1")
    port = os.environ.get("KEYDESK_PORT", "8000")
    bin_dir = os.path.dirname(sys.executable)
    web = [
        os.path.join(bin_dir, "gunicorn"),
        "keydesk.wsgi:application",
        "--bind",
        f"{host}:{port}",
        "--workers",
        os.environ.get("KEYDESK_WEB_WORKERS", "2"),
        "--threads",
        "4",
        "--access-logfile",
        "-",
        "--forwarded-allow-ips",
        ",".join(settings.TRUSTED_PROXIES) or "127.0.0.1",
    ]
    worker = [sys.executable, "-m", "keydesk.cli", "worker"]
    listener = [sys.executable, "-m", "keydesk.cli", "mail", "listen"]
    base = settings.BASE_DOMAIN
    default = f" and http://{host}:{port}" if settings.DEFAULT_TENANT else ""
    print(f"Keydesk serves http://SLUG.{base}:{port}{default}; Ctrl-C stops it.", flush=True)
    children = [subprocess.Popen(command) for command in (web, worker, listener)]  # noqa: S603

    signalled = []

    def stop(signum, frame):
        if signum is not None:
            signalled.append(signum)
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    # When any child ends (crash or signal), stop the others so nothing keeps running alone.
    exited = os.wait()
    stop(None, None)
    for child in children:
        child.wait()
    # Ctrl-C reaches the children too (one process group), and one may end before our own
    # handler has run, with whatever code an interrupt gives it: a stop that was asked for
    # succeeds; a child that ended by itself is a failure unless it ended cleanly.
    if signalled:
        return EXIT_OK
    return EXIT_OK if os.waitstatus_to_exitcode(exited[1]) in (0, -signal.SIGTERM) else 1


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="keydesk", description="Keydesk: a helpdesk secured like an identity provider."
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    sub.add_parser(
        "run", help="serve the web app, the task worker and the mail listener"
    ).set_defaults(func=cmd_run)
    p = sub.add_parser("migrate", help="create or update the database tables")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_migrate)
    sub.add_parser("worker", help="run the task worker alone").set_defaults(func=cmd_worker)

    tenant = sub.add_parser("tenant", help="tenants").add_subparsers(
        dest="tenant_command", required=True, parser_class=_Parser
    )
    p = tenant.add_parser("create", help="create a tenant and its admin")
    p.add_argument("slug")
    p.add_argument("--name", required=True)
    p.add_argument("--admin-email", required=True)
    p.add_argument("--admin-password-stdin", action="store_true")
    p.add_argument("--if-not-exists", action="store_true", help="do nothing when the slug exists")
    p.set_defaults(func=cmd_tenant_create)
    tenant.add_parser("list", help="list tenants").set_defaults(func=cmd_tenant_list)
    p = tenant.add_parser("lift-limits", help="end a new tenant's creation limits early")
    p.add_argument("slug")
    p.set_defaults(func=cmd_tenant_lift_limits)

    user = sub.add_parser("user", help="people").add_subparsers(
        dest="user_command", required=True, parser_class=_Parser
    )
    p = user.add_parser("create", help="create a staff member or contact")
    p.add_argument("--tenant", required=True)
    p.add_argument("--email", required=True)
    p.add_argument("--kind", required=True, choices=["staff", "contact"])
    p.add_argument("--role", choices=["admin", "manager", "agent", "supervisor"])
    p.add_argument("--name")
    p.add_argument("--guest", action="store_true")
    p.add_argument("--password-stdin", action="store_true")
    p.set_defaults(func=cmd_user_create)

    token = sub.add_parser("token", help="API tokens").add_subparsers(
        dest="token_command", required=True, parser_class=_Parser
    )
    p = token.add_parser("create", help="create an API token; printed once, on the last line")
    p.add_argument("--tenant", required=True)
    p.add_argument("--email", required=True)
    p.add_argument("--name")
    p.set_defaults(func=cmd_token_create)

    events = sub.add_parser("events", help="the event log").add_subparsers(
        dest="events_command", required=True, parser_class=_Parser
    )
    p = events.add_parser("verify", help="check the tenant's hash chain")
    p.add_argument("--tenant", required=True)
    p.set_defaults(func=cmd_events_verify)

    tap = sub.add_parser("tap", help="Temporary Access Passes").add_subparsers(
        dest="tap_command", required=True, parser_class=_Parser
    )
    tap.add_parser("purge", help="delete passes expired over 30 days ago").set_defaults(
        func=cmd_tap_purge
    )

    mail = sub.add_parser("mail", help="email").add_subparsers(
        dest="mail_command", required=True, parser_class=_Parser
    )
    mail.add_parser(
        "listen", help="the inbound SMTP listener alone (on KEYDESK_SMTP_LISTEN)"
    ).set_defaults(func=cmd_mail_listen)

    access = sub.add_parser("access", help="access lists").add_subparsers(
        dest="access_command", required=True, parser_class=_Parser
    )
    p = access.add_parser("clear", help="remove every access rule of a tenant")
    p.add_argument("--tenant", required=True)
    p.set_defaults(func=cmd_access_clear)

    p = sub.add_parser("manage", help="Django's management commands (for operators)")
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_manage)
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        _setup_django()
        from keydesk.core.errors import ApplicationError
        from keydesk.tenants.limits import CreationLimitReached, creation_refusal_record

        try:
            return args.func(args)
        except ApplicationError as exc:
            if isinstance(exc, CreationLimitReached):
                creation_refusal_record(error=exc)
            field = f" ({exc.field})" if exc.field else ""
            raise UsageError(f"keydesk: {exc.message}{field}") from None
    except UsageError as exc:
        line = str(exc).splitlines()[0]
        print(line if line.startswith("keydesk") else f"keydesk: {line}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
