#!/usr/bin/env python3
"""pyprobe.py -- a deliberately small SMTP probe built on smtplib.

It exists only so selftest.py can drive run-scenarios end to end without the
C program: the runner is pointed at `python3` and the selftest scenarios
(tests/integration/selftest/*.scn) run this file.  It prints a JSON document
shaped like a tiny subset of smtpcheck's (ports[], findings[]) and exits 0
when every port worked, 2 otherwise.

Usage: pyprobe.py --connect ADDR -p PORT/MODE[,...] --ca-file CA
                  [--user NAME] [--password-file FILE] [--echo-stdin]
                  [--sleep SECONDS] HOST
Password: --password-file, else $SMTPCHECK_PASSWORD.
"""

import argparse
import json
import os
import smtplib
import ssl
import sys
import time


def probe(addr, port, mode, ctx, user, password):
    entry = {"port": port, "mode": mode, "connected": False, "error": None,
             "tls": None, "auth_before_tls": [], "auth_after_tls": [], "auth": None}
    findings = []
    try:
        if mode == "tls":
            smtp = smtplib.SMTP_SSL(addr, port, timeout=5, context=ctx)
            entry["connected"] = True
            entry["auth_before_tls"] = None
        else:
            smtp = smtplib.SMTP(addr, port, timeout=5)
            entry["connected"] = True
            smtp.ehlo()
            entry["auth_before_tls"] = smtp.esmtp_features.get("auth", "").split()
            smtp.starttls(context=ctx)
        smtp.ehlo()
        entry["auth_after_tls"] = smtp.esmtp_features.get("auth", "").split()
        entry["tls"] = {"ok": True, "version": smtp.sock.version(),
                        "cipher": smtp.sock.cipher()[0], "verified": True}
        findings.append({"id": "implicit-tls-available" if mode == "tls"
                         else "starttls-available", "severity": "ok", "port": port})
        if user:
            code, _ = smtp.login(user, password)
            entry["auth"] = {"username": user, "code": code, "ok": code == 235}
            findings.append({"id": "auth-ok", "severity": "ok", "port": port})
        smtp.quit()
    except (OSError, smtplib.SMTPException) as exc:
        entry["error"] = f"{type(exc).__name__}: {exc}"
        findings.append({"id": "probe-failed", "severity": "critical", "port": port})
    return entry, findings


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--connect", required=True)
    ap.add_argument("-p", dest="ports", required=True)
    ap.add_argument("--ca-file", required=True)
    ap.add_argument("--user")
    ap.add_argument("--password-file")
    ap.add_argument("--echo-stdin", action="store_true")
    ap.add_argument("--sleep", type=float, default=0)
    ap.add_argument("host")
    args = ap.parse_args()
    time.sleep(args.sleep)
    password = os.environ.get("SMTPCHECK_PASSWORD", "")
    if args.password_file:
        with open(args.password_file, encoding="utf-8") as f:
            password = f.read().strip()
    ctx = ssl.create_default_context(cafile=args.ca_file)
    doc = {"host": args.host, "ports": [], "findings": []}
    for item in args.ports.split(","):
        port, _, mode = item.partition("/")
        entry, findings = probe(args.connect, int(port), mode or "starttls", ctx,
                                args.user, password)
        doc["ports"].append(entry)
        doc["findings"] += findings
    if args.echo_stdin:
        doc["stdin"] = sys.stdin.read()
    ok = all(p["error"] is None for p in doc["ports"])
    doc["status"] = "OK" if ok else "CRITICAL"
    print(json.dumps(doc))
    return 0 if ok else 2


if __name__ == "__main__":
    sys.exit(main())
