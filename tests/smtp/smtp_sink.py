"""Test infrastructure, not product code: a real SMTP server (aiosmtpd) on a loopback port
that writes every message it accepts to a directory, one JSON file per message, for
scim-seats' mail tests. Started by tests/api/smtp.rs.

    python3 smtp_sink.py DIR [PORT]

Prints one line `{"port": N}` once it listens; stops when its stdin closes. Each file holds
the envelope (mail_from, rcpt_tos), the headers tests read (From, To, Subject, Message-ID)
and the body decoded from its transfer encoding.
"""
import email
import email.policy
import json
import os
import socket
import sys

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, out_dir):
        self.out_dir = out_dir
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        body = msg.get_body(preferencelist=("plain",))
        self.count += 1
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "from": str(msg["From"]),
            "to": str(msg["To"]),
            "subject": str(msg["Subject"]),
            "message_id": str(msg["Message-ID"]),
            "body": body.get_content() if body is not None else "",
        }
        tmp = os.path.join(self.out_dir, f".{self.count:05}.tmp")
        with open(tmp, "w") as f:
            json.dump(record, f)
        # Renamed into place so a reader never sees half a file.
        os.rename(tmp, os.path.join(self.out_dir, f"{self.count:05}.json"))
        return "250 Message accepted for delivery"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    out_dir = sys.argv[1]
    port = int(sys.argv[2]) if len(sys.argv) > 2 else free_port()
    controller = Controller(Sink(out_dir), hostname="127.0.0.1", port=port)
    controller.start()
    print(json.dumps({"port": port}), flush=True)
    try:
        sys.stdin.read()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
