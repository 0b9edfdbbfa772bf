"""The SMTP listener (aiosmtpd): refuses unknown recipients, stores a message before saying 250.

Answers:

- RCPT: `250` for an address a tenant receives at, `550` for any other; `451` when the
  database cannot be asked (the sender tries again later); `452` past 100 recipients.
- DATA: `250` once the message is committed (see `process.inbound_store`), `451` when it
  could not be stored, `552` for a message over `KEYDESK_INBOUND_MAX_MB`.

The handler runs in aiosmtpd's event loop; every database call goes to one thread of its
own, so the loop never blocks and the listener writes like any single client of the
database. Lines longer than the standard's 1,000 characters are accepted rather than
refused, since a refusal would lose the message.
"""

import asyncio
import functools
import logging
import signal
import threading
from concurrent.futures import ThreadPoolExecutor

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP
from django.conf import settings
from django.db import connection

from .addresses import tenant_for_recipient
from .process import inbound_store

logger = logging.getLogger(__name__)

MAX_RECIPIENTS = 100
IDENT = "Keydesk"


class InboundHandler:
    """aiosmtpd's handler: the RCPT and DATA hooks."""

    def __init__(self):
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="inbound-db")

    async def _in_db_thread(self, func, **kwargs):
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, functools.partial(_db_call, func, kwargs))

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if len(envelope.rcpt_tos) >= MAX_RECIPIENTS:
            return "452 4.5.3 Too many recipients"
        try:
            tenant_id = await self._in_db_thread(_tenant_id_for, address=address)
        except Exception:
            logger.exception("could not look up the recipient")
            return "451 4.3.0 Temporary failure, please try again later"
        if tenant_id is None:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        by_tenant = getattr(envelope, "keydesk_recipients", None)
        if by_tenant is None:
            by_tenant = envelope.keydesk_recipients = {}
        by_tenant.setdefault(tenant_id, []).append(address)
        return "250 2.1.5 Recipient OK"

    async def handle_DATA(self, server, session, envelope):
        recipients = getattr(envelope, "keydesk_recipients", None)
        if not recipients:
            return "554 5.5.1 No valid recipients"
        raw = envelope.original_content or b""
        try:
            await self._in_db_thread(
                inbound_store,
                raw=raw,
                envelope_from=envelope.mail_from or "",
                recipients=recipients,
                peer=session.peer[0] if session.peer else None,
            )
        except Exception:
            logger.exception("could not store an inbound message; answered 451")
            return "451 4.3.0 Could not store the message, please try again later"
        return "250 2.0.0 Message accepted"

    def close(self) -> None:
        self.executor.submit(_close_connection).result()
        self.executor.shutdown(wait=True)


def _db_call(func, kwargs):
    # The thread keeps its connection from one call to the next (on SQLite, closing the last
    # connection would also checkpoint the log each time); one that failed is closed, so the
    # next call, after the sender's retry, starts on a fresh one.
    try:
        return func(**kwargs)
    except Exception:
        connection.close()
        raise


def _close_connection() -> None:
    connection.close()  # this thread's own connection: `connection` is per thread


def _tenant_id_for(*, address: str) -> int | None:
    tenant = tenant_for_recipient(address)
    return tenant.pk if tenant else None


class _LenientSMTP(SMTP):
    line_length_limit = 1_000_000


class InboundController(Controller):
    """aiosmtpd's threaded controller serving `InboundHandler`."""

    def factory(self):
        return _LenientSMTP(self.handler, **self.SMTP_kwargs)


def listener_create(*, host: str, port: int) -> InboundController:
    """A listener (not started) on host:port with the configured size limit."""
    return InboundController(
        InboundHandler(),
        hostname=host,
        port=port,
        server_hostname=settings.BASE_DOMAIN,
        ident=IDENT,
        data_size_limit=settings.INBOUND_MAX_MB * 1024 * 1024,
        enable_SMTPUTF8=True,
        decode_data=False,
    )


def listener_stop(controller: InboundController) -> None:
    controller.stop()
    controller.handler.close()


def listen_until_signalled(*, host: str, port: int, ready=None) -> None:
    """Serve until SIGINT or SIGTERM; `ready` (a callable) is told once the port is open."""
    controller = listener_create(host=host, port=port)
    controller.start()
    stop = threading.Event()
    previous = {
        sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        if ready is not None:
            ready()
        while not stop.wait(1):
            pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        listener_stop(controller)
