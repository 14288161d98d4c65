"""Provider payloads for the feedback tests, written from each provider's public docs and
signed with keys generated here (never real ones), plus the signing helpers."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
import uuid
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID
from standardwebhooks import Webhook

CERT_URL = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-test.pem"
TOPIC = "arn:aws:sns:us-east-1:123456789012:ses-feedback"


def iso(at: datetime) -> str:
    """SNS and Postmark style timestamps."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class SendGridKeys:
    """An ECDSA P-256 key pair like SendGrid's; `public` is what its settings page shows."""

    def __init__(self):
        self.private = ec.generate_private_key(ec.SECP256R1())
        der = self.private.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.public = base64.b64encode(der).decode()

    def headers(self, body: bytes, at: float | None = None) -> dict:
        """The two headers SendGrid sends with a signed delivery."""
        timestamp = str(int(at if at is not None else time.time()))
        signature = self.private.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
        return {
            "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
            "X-Twilio-Email-Event-Webhook-Timestamp": timestamp,
        }


def sendgrid_events(*items: tuple[str, str], **extra) -> bytes:
    """A SendGrid event webhook body: [(event, email), …] (bounce type via extra)."""
    now = int(time.time())
    events = []
    for event, email in items:
        row = {
            "email": email,
            "timestamp": now,
            "smtp-id": "<14c5d75ce93.dfd.64b469@ismtpd-555>",
            "event": event,
            "sg_event_id": extra.get("ids", {}).get(email) or f"sg-{uuid.uuid4().hex}",
            "sg_message_id": "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0",
            "category": ["cat facts"],
        }
        if event == "bounce":
            row |= {
                "type": extra.get("bounce_type", "bounce"),
                "reason": "500 unknown recipient",
                "status": "5.0.0",
            }
        events.append(row)
    return json.dumps(events).encode()


def mailgun_body(
    event: str, recipient: str, key: str, *, severity: str = "permanent", at=None, event_id=None
) -> bytes:
    """A Mailgun webhook body (`signature` + `event-data`), signed with `key`."""
    timestamp = str(int(at if at is not None else time.time()))
    token = secrets.token_hex(25)
    signature = hmac.new(key.encode(), (timestamp + token).encode(), hashlib.sha256).hexdigest()
    data = {
        "event": event,
        "id": event_id or f"mg-{uuid.uuid4().hex[:22]}",
        "timestamp": float(timestamp),
        "recipient": recipient,
        "log-level": "error",
    }
    if event == "failed":
        data |= {
            "severity": severity,
            "reason": "bounce" if severity == "permanent" else "generic",
            "delivery-status": {"code": 550, "description": "No such mailbox"},
        }
    body = {
        "signature": {"timestamp": timestamp, "token": token, "signature": signature},
        "event-data": data,
    }
    return json.dumps(body).encode()


def postmark_bounce(email: str, kind: str = "HardBounce", bounce_id: int | None = None) -> bytes:
    """A Postmark bounce (or, with kind SpamComplaint, complaint) webhook body."""
    record = "SpamComplaint" if kind == "SpamComplaint" else "Bounce"
    return json.dumps(
        {
            "RecordType": record,
            "ID": bounce_id or secrets.randbelow(10**15),
            "Type": kind,
            "TypeCode": {"HardBounce": 1, "SoftBounce": 4096, "SpamComplaint": 512}.get(kind, 1),
            "Name": "Hard bounce",
            "Tag": "Newsletter",
            "MessageID": str(uuid.uuid4()),
            "ServerID": 23,
            "MessageStream": "broadcast",
            "Description": "The server was unable to deliver your message (ex: unknown user).",
            "Details": "Test bounce details",
            "Email": email,
            "From": "sender@example.com",
            "BouncedAt": iso(datetime.now(UTC)),
            "Inactive": True,
            "CanActivate": True,
            "Subject": "Test subject",
        }
    ).encode()


def postmark_unsubscribe(email: str) -> bytes:
    """A Postmark SubscriptionChange webhook: the recipient used the unsubscribe link."""
    return json.dumps(
        {
            "RecordType": "SubscriptionChange",
            "MessageID": str(uuid.uuid4()),
            "ServerID": 23,
            "MessageStream": "broadcast",
            "ChangedAt": iso(datetime.now(UTC)),
            "Recipient": email,
            "Origin": "Recipient",
            "SuppressSending": True,
            "SuppressionReason": "ManualSuppression",
            "Tag": "welcome-email",
        }
    ).encode()


class StandardSigner:
    """A Standard Webhooks sender with a whsec_ secret."""

    def __init__(self):
        self.secret = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()

    def headers(self, body: bytes, msg_id: str | None = None, at: float | None = None) -> dict:
        """webhook-id, webhook-timestamp, webhook-signature for `body`."""
        msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
        when = datetime.fromtimestamp(int(at if at is not None else time.time()), UTC)
        return {
            "webhook-id": msg_id,
            "webhook-timestamp": str(int(when.timestamp())),
            "webhook-signature": Webhook(self.secret).sign(msg_id, when, body.decode()),
        }


def standard_body(*items: tuple[str, str], ids=None) -> bytes:
    """The generic format: [(type, address), …] as a list (one object when one item)."""
    events = [
        {
            "type": kind,
            "timestamp": iso(datetime.now(UTC)),
            "data": {"address": address, "id": (ids or {}).get(address) or uuid.uuid4().hex},
        }
        for kind, address in items
    ]
    return json.dumps(events[0] if len(events) == 1 else events).encode()


class SnsSigner:
    """A test certificate authority's key and certificate, signing SNS messages like AWS."""

    def __init__(self):
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
        now = datetime.now(UTC)
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=30))
            .sign(self.key, hashes.SHA256())
        )
        self.pem = self.cert.public_bytes(serialization.Encoding.PEM)

    def sign(self, message: dict, version: str = "1", cert_url: str = CERT_URL) -> bytes:
        """The message with SignatureVersion, SigningCertURL and Signature, as a body."""
        from requests_queue.feedback.sns import string_to_sign

        algorithm = hashes.SHA1() if version == "1" else hashes.SHA256()
        signature = self.key.sign(string_to_sign(message), padding.PKCS1v15(), algorithm)
        signed = message | {
            "SignatureVersion": version,
            "Signature": base64.b64encode(signature).decode(),
            "SigningCertURL": cert_url,
        }
        return json.dumps(signed).encode()


def ses_notification(kind: str, *emails: str, at: datetime | None = None, bounce="Permanent"):
    """An SNS Notification carrying an SES Bounce or Complaint notification (unsigned)."""
    at = at or datetime.now(UTC)
    feedback_id = f"0100017{uuid.uuid4().hex}-000000"
    recipients = [{"emailAddress": e} for e in emails]
    if kind == "Bounce":
        inner = {
            "notificationType": "Bounce",
            "bounce": {
                "bounceType": bounce,
                "bounceSubType": "General",
                "bouncedRecipients": recipients,
                "timestamp": iso(at),
                "feedbackId": feedback_id,
            },
            "mail": {"messageId": uuid.uuid4().hex, "source": "news@acme.example"},
        }
    else:
        inner = {
            "notificationType": "Complaint",
            "complaint": {
                "complainedRecipients": recipients,
                "timestamp": iso(at),
                "feedbackId": feedback_id,
                "complaintFeedbackType": "abuse",
            },
            "mail": {"messageId": uuid.uuid4().hex, "source": "news@acme.example"},
        }
    return {
        "Type": "Notification",
        "MessageId": str(uuid.uuid4()),
        "TopicArn": TOPIC,
        "Message": json.dumps(inner),
        "Timestamp": iso(at),
    }


def sns_subscription(at: datetime | None = None) -> dict:
    """An SNS SubscriptionConfirmation (unsigned)."""
    token = secrets.token_hex(32)
    return {
        "Type": "SubscriptionConfirmation",
        "MessageId": str(uuid.uuid4()),
        "Token": token,
        "TopicArn": TOPIC,
        "Message": f"You have chosen to subscribe to the topic {TOPIC}.",
        "SubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription"
        f"&TopicArn={TOPIC}&Token={token}",
        "Timestamp": iso(at or datetime.now(UTC)),
    }


def add_feed(session, user, provider: str, when: datetime, **settings):
    """A committed feed of `provider` on `user`'s account, keys sealed with the tests'
    SECRET_KEY; `settings` are FeedSettings fields (name defaults to "<provider> feed")."""
    from requests_queue.feedback.feeds import FeedSettings, create_feed
    from requests_queue.feedback.sealing import Sealer
    from requests_queue.models.feedback import FeedProvider

    settings.setdefault("name", f"{provider} feed")
    feed = create_feed(
        session,
        user.account_id,
        FeedProvider(provider),
        FeedSettings(**settings),
        Sealer(["test-secret"]),
        when,
    )
    session.commit()
    return feed
