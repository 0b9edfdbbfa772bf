"""`record()`, the only writer of the event log, and the chain verifier."""

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import models, transaction

from keydesk.core.http import client_ip
from keydesk.core.queries import Param, PreparedInsert, PreparedLookup, PreparedUpdate

from .actions import EventAction
from .models import Event, EventChainHead

GENESIS_HASH = "0" * 64
REDACTED = "[redacted]"
# A key made of any of these words holds a secret: it is never written to the log.
_SECRET_WORDS = frozenset(
    {
        "password",
        "passwd",
        "secret",
        "token",
        "pin",
        "tap",
        "otp",
        "code",
        "passcode",
        "key",
        "credential",
        "credentials",
        "cookie",
        "authorization",
    }
)


def _is_secret_key(key: str) -> bool:
    return any(part in _SECRET_WORDS for part in re.split(r"[^a-z0-9]+", key.lower()))


def _scrub(value):
    if isinstance(value, dict):
        return {
            str(k): (REDACTED if _is_secret_key(str(k)) else _scrub(v)) for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_scrub(v) for v in value]
    return value


def _canonical(
    *,
    tenant_id,
    seq,
    created_at,
    actor_id,
    actor_label,
    action,
    target_type,
    target_id,
    target_label,
    ip,
    details,
) -> bytes:
    row = [
        tenant_id,
        seq,
        created_at.astimezone(UTC).isoformat(timespec="microseconds"),
        actor_id,
        actor_label,
        action,
        target_type,
        target_id,
        target_label,
        ip,
        details,
    ]
    return json.dumps(row, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def chain_hash(prev_hash: str, canonical_row: bytes) -> str:
    return hashlib.sha256(prev_hash.encode() + canonical_row).hexdigest()


def _target_fields(target) -> tuple[str, str, str]:
    if target is None:
        return "", "", ""
    if isinstance(target, models.Model):
        return target._meta.model_name, str(target.pk), str(target)[:300]
    kind, ident, label = target
    return kind, str(ident), str(label)[:300]


# Every event locks its tenant's chain head first, and moves it on.
_locked_head_of_tenant = PreparedLookup(
    EventChainHead.objects.select_for_update()
    .filter(tenant_id=Param("tenant_id"))
    .values_list("last_seq", "last_hash")
)
_move_head = PreparedUpdate(
    EventChainHead.objects.filter(tenant_id=Param("tenant_id")),
    last_seq=Param("last_seq"),
    last_hash=Param("last_hash"),
)
_insert_event = PreparedInsert(Event)


def record(tenant, actor, action: EventAction, target=None, request=None, **details) -> Event:
    """Append one event to the tenant's chain, inside the caller's transaction.

    `target` is a model instance or a (type, id, label) tuple. Keys of `details` that name a
    secret are redacted, so a careless caller cannot leak one into the log. Inside
    `writes_batched()` the row goes out with the caller's next statement, and the returned
    event has no primary key (its tenant and `seq` name it).
    """
    action = EventAction(action)
    # JSON round trip first: what is hashed is exactly what the database gives back.
    clean = json.loads(json.dumps(_scrub(details), default=str))
    target_type, target_id, target_label = _target_fields(target)
    actor_id = actor.pk if actor is not None and getattr(actor, "pk", None) else None
    actor_label = actor.email if actor_id else ""
    ip = client_ip(request) if request is not None else None
    # No savepoint of its own: an event that cannot be written fails the caller's change.
    with transaction.atomic(savepoint=False):
        head = _locked_head_of_tenant.row(tenant_id=tenant.pk)
        if head is None:  # the tenant's first event
            EventChainHead.objects.select_for_update().get_or_create(
                tenant=tenant, defaults={"last_seq": 0, "last_hash": GENESIS_HASH}
            )
            head = _locked_head_of_tenant.row(tenant_id=tenant.pk)
        last_seq, last_hash = head
        seq = last_seq + 1
        created_at = datetime.now(UTC)
        row_hash = chain_hash(
            last_hash,
            _canonical(
                tenant_id=tenant.pk,
                seq=seq,
                created_at=created_at,
                actor_id=actor_id,
                actor_label=actor_label,
                action=action.value,
                target_type=target_type,
                target_id=target_id,
                target_label=target_label,
                ip=ip,
                details=clean,
            ),
        )
        event = Event(
            tenant=tenant,
            seq=seq,
            created_at=created_at,
            actor_id=actor_id,
            actor_label=actor_label,
            action=action.value,
            target_type=target_type,
            target_id=target_id,
            target_label=target_label,
            ip=ip,
            details=clean,
            prev_hash=last_hash,
            hash=row_hash,
        )
        _insert_event.save_batched(event)
        _move_head.run_batched(tenant_id=tenant.pk, last_seq=seq, last_hash=row_hash)
    return event


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    count: int
    broken_seq: int | None = None
    reason: str = ""


_VERIFY_FIELDS = (
    "seq",
    "created_at",
    "actor_id",
    "actor_label",
    "action",
    "target_type",
    "target_id",
    "target_label",
    "ip",
    "details",
    "prev_hash",
    "hash",
)


def events_verify(*, tenant) -> ChainReport:
    """Walk the tenant's chain from the first event; name the first row that does not fit.

    An edited row fails its own hash, a deleted or reordered row breaks the sequence or the
    link to its predecessor, and a removed tail no longer meets the chain head.
    """
    expected_seq, prev = 1, GENESIS_HASH
    rows = (
        Event.objects.filter(tenant=tenant)
        .order_by("seq")
        .values_list(*_VERIFY_FIELDS)
        .iterator(chunk_size=5000)
    )
    count = 0
    for (
        seq,
        created_at,
        actor_id,
        actor_label,
        action,
        target_type,
        target_id,
        target_label,
        ip,
        details,
        prev_hash,
        row_hash,
    ) in rows:
        if seq != expected_seq:
            return ChainReport(False, count, expected_seq, f"event #{expected_seq} is missing")
        if prev_hash != prev:
            return ChainReport(False, count, seq, f"event #{seq} does not link to event #{seq - 1}")
        canonical = _canonical(
            tenant_id=tenant.pk,
            seq=seq,
            created_at=created_at,
            actor_id=actor_id,
            actor_label=actor_label,
            action=action,
            target_type=target_type,
            target_id=target_id,
            target_label=target_label,
            ip=ip,
            details=details,
        )
        if chain_hash(prev, canonical) != row_hash:
            return ChainReport(False, count, seq, f"event #{seq} was altered")
        prev, expected_seq, count = row_hash, seq + 1, count + 1
    head = EventChainHead.objects.filter(tenant=tenant).first()
    if head is not None and (head.last_seq != count or head.last_hash != prev):
        return ChainReport(
            False,
            count,
            count + 1,
            f"events after #{count} are missing (chain head #{head.last_seq})",
        )
    return ChainReport(True, count)
