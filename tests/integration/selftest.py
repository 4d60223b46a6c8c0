#!/usr/bin/env python3
"""selftest.py -- prove the scenario test kit works, without smtpcheck.

Usage: selftest.py [--stress N] [-v]

Checks, in order:
  * tests/certs/make-certs: every file, validity windows and chains, as
    `openssl verify` sees them, in under 3 s;
  * tests/server/smtpserver.py, driven by Python's smtplib and raw sockets:
    EHLO/STARTTLS/implicit TLS, AUTH PLAIN, LOGIN, CRAM-MD5, SCRAM-SHA-1 and
    SCRAM-SHA-256 (right and wrong passwords, cancel), every @action, scripted
    TLS failures, STARTTLS injection both ways, max-connections, the event log
    (redaction, PREGREET, PIPELINED, DISCARD/INJECTED), start-up errors,
    ::1, --workers, --watch-stdin, SIGTERM, and N concurrent connections
    (default 1000; --stress 3000 for the full benchmark size);
  * tests/integration/scenario.py: the JSON-path evaluator and every
    expectation kind on literal documents; `backends`, the [postfix] section
    and `[backend]` expectation prefixes (and the runner's plan of one run
    per backend), without starting Postfix;
  * tests/integration/run-scenarios end to end, with smtplib standing in as
    the probe (tests/integration/selftest/*.scn): PASS, FAIL with details,
    SKIP, time-out, bad scenario, bad server section, missing binary, and no
    server process left behind;
  * as root with postfix and dovecot installed: a postfix-backend run whose
    runner is SIGKILLed mid-run, and one whose scenario FAILs, leave no
    Postfix or Dovecot process and no namespace of that run behind.
Prints `ok NAME` / `FAIL NAME: why` per check and a summary line
`selftest: N checks, P passed, F failed`; exits 1 if any check failed.
"""

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import os
import re
import resource
import secrets
import shutil
import signal
import smtplib
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import traceback
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import scenario as sc  # noqa: E402

SERVER = os.path.join(REPO, "tests", "server", "smtpserver.py")
MAKE_CERTS = os.path.join(REPO, "tests", "certs", "make-certs")
RUNNER = os.path.join(HERE, "run-scenarios")

SCENARIO = r"""
[test]
args = unused by the self-test

[server *]
users = alice@example.test:s3cret alice:s3cret
auth-mechanisms = PLAIN LOGIN CRAM-MD5 SCRAM-SHA-1 SCRAM-SHA-256 NTLM

[server sub]
mode = starttls
on RCPT = 554 5.7.1 <x@example.com>: Relay access denied
on-auth RCPT = 250 2.1.5 Ok
on-tls NOOP = 250 2.0.0 noop under tls

[server tls]
mode = tls
tls-versions = TLSv1.2
on-auth-fail = @delay 0.3
               535 5.7.8 Error: authentication failed: slow

[server clear]
mode = clear
greeting-teaser = 220-mail.test please wait
greeting-delay = 0.4
on NOOP = @drip 0.05 250-still going
on VRFY = @raw 252 raw\x00reply\r\n
on EXPN = @big 100000
on ETRN = 421 4.3.2 Shutting down
          @close
on TURN = @reset
on HELP = 214-first
          @delay 0.2
          214 second

[server plain]
mode = clear

[server inject]
mode = starttls
after-starttls-plain = 250-injected\r\n250 injected\r\n

[server vuln]
mode = starttls
starttls-injection-vulnerable = yes

[server hsreset]
mode = starttls
tls-handshake = reset

[server hssilent]
mode = tls
tls-handshake = silent

[server hsplain]
mode = tls
tls-handshake = plain 220 mail.test ESMTP not TLS at all

[server limited]
mode = clear
max-connections = 2

[server slow]
mode = clear
greeting = @bytes-per-second 100 220 slow.test ESMTP trickling

[server silent]
mode = clear
greeting = @silent

[server apppw]
mode = tls
on AUTH = 534 5.7.9 Application-specific password required

[server old]
mode = tls
tls-versions = TLSv1,TLSv1.1

[server off]
accept = no
"""


# --------------------------------------------------------------------------
# Check bookkeeping

class Checks:
    def __init__(self, verbose):
        self.results = []
        self.verbose = verbose

    def run(self, name, fn, *args):
        t0 = time.monotonic()
        try:
            fn(*args)
        except AssertionError as exc:
            self.fail(name, str(exc) or "assertion failed")
        except Exception as exc:
            self.fail(name, f"{type(exc).__name__}: {exc}")
            if self.verbose:
                traceback.print_exc()
        else:
            self.results.append(True)
            print(f"ok   {name} ({time.monotonic() - t0:.2f} s)", flush=True)

    def fail(self, name, why):
        self.results.append(False)
        print(f"FAIL {name}: {why}", flush=True)


def expect(cond, why):
    if not cond:
        raise AssertionError(why)


# --------------------------------------------------------------------------
# Server handling

class Server:
    def __init__(self, scenario_text, certs, tmp, name, *extra, addr="127.0.0.1"):
        self.path = os.path.join(tmp, f"{name}.scn")
        self.log_path = os.path.join(tmp, f"{name}.log")
        with open(self.path, "w", encoding="utf-8") as f:
            f.write(scenario_text)
        self.addr = addr
        self.proc = subprocess.Popen(
            [sys.executable, SERVER, "--scenario", self.path, "--certs", certs,
             "--addr", addr, "--log", self.log_path, *extra],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        line = self.proc.stdout.readline().decode()
        if not line.startswith("READY"):
            err = self.proc.stderr.read().decode()
            self.proc.kill()
            raise RuntimeError(f"server did not start: {line!r} {err}")
        self.ports = {k: int(v) for k, v in (w.split("=") for w in line.split()[1:])}

    def log(self):
        try:
            with open(self.log_path, encoding="utf-8") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def wait_log(self, regex, timeout=3.0):
        deadline = time.monotonic() + timeout
        while True:
            text = self.log()
            m = re.search(regex, text, re.MULTILINE)
            if m:
                return m
            if time.monotonic() > deadline:
                tail = "\n".join(text.splitlines()[-8:])
                raise AssertionError(f"log has no /{regex}/; last lines:\n{tail}")
            time.sleep(0.02)

    def stop(self, timeout=2.0):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                return None
        return self.proc.returncode


def start_expect_error(certs, tmp, text, *extra):
    path = os.path.join(tmp, "bad.scn")
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    r = subprocess.run([sys.executable, SERVER, "--scenario", path, "--certs", certs, *extra],
                       capture_output=True, text=True, timeout=10, stdin=subprocess.DEVNULL)
    return r.returncode, r.stdout, r.stderr


class Wire:
    """A raw SMTP client connection with its own read buffer."""

    def __init__(self, port, addr="127.0.0.1", timeout=3.0):
        self.sock = socket.create_connection((addr, port), timeout=timeout)
        self.buf = b""

    def fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise EOFError("server closed")
        self.buf += data

    def line(self):
        while b"\n" not in self.buf:
            self.fill()
        line, _, self.buf = self.buf.partition(b"\n")
        return line + b"\n"

    def reply(self):
        lines = []
        while True:
            line = self.line()
            lines.append(line.decode("latin-1").rstrip("\r\n"))
            if line[3:4] != b"-":
                return lines

    def send(self, data):
        self.sock.sendall(data)

    def starttls(self, ctx, hostname="mail.test"):
        self.sock = ctx.wrap_socket(self.sock, server_hostname=hostname)

    def close(self):
        self.sock.close()


def client_ctx(certs):
    return ssl.create_default_context(cafile=os.path.join(certs, "ca.pem"))


# --------------------------------------------------------------------------
# Certificate checks

def check_certs(certs):
    names = ["ca", "good", "expiring", "expired", "wrongname", "selfsigned", "untrusted",
             "chained", "chain-missing", "intermediate", "rogue-ca"]
    for n in names:
        expect(os.path.isfile(os.path.join(certs, f"{n}.pem")), f"{n}.pem missing")
    expect(os.path.isfile(os.path.join(certs, "stamp")), "stamp missing")

    def verify(name, *opts):
        pem = os.path.join(certs, f"{name}.pem")
        r = subprocess.run(["openssl", "verify", "-CAfile", os.path.join(certs, "ca.pem"),
                            "-untrusted", pem, *opts, pem], capture_output=True, text=True)
        return r.returncode, r.stdout + r.stderr

    for name in ("good", "expiring", "chained"):
        code, text = verify(name, "-verify_hostname", "mail.test")
        expect(code == 0, f"{name} should verify for mail.test: {text}")
    for name in ("good", "chained"):
        code, text = verify(name, "-verify_ip", "127.0.0.1")
        expect(code == 0, f"{name} should verify for 127.0.0.1: {text}")
    for name, error in (("expired", "expired"), ("selfsigned", "self-signed"),
                        ("untrusted", "self-signed certificate in certificate chain"),
                        ("chain-missing", "unable to get local issuer")):
        code, text = verify(name)
        expect(code != 0 and error in text, f"{name}: expected '{error}', got {text!r}")
    code, text = verify("wrongname", "-verify_hostname", "mail.test")
    expect(code != 0 and "hostname mismatch" in text, f"wrongname: {text!r}")

    def enddate(name):
        r = subprocess.run(["openssl", "x509", "-in", os.path.join(certs, f"{name}.pem"),
                            "-noout", "-checkend", "0"], capture_output=True, text=True)
        return r.returncode
    expect(enddate("expired") == 1, "expired.pem is not expired")
    r = subprocess.run(["openssl", "x509", "-in", os.path.join(certs, "expiring.pem"),
                        "-noout", "-checkend", str(11 * 86400)], capture_output=True)
    expect(r.returncode == 1, "expiring.pem does not expire within 11 days")
    r = subprocess.run(["openssl", "x509", "-in", os.path.join(certs, "expiring.pem"),
                        "-noout", "-checkend", str(9 * 86400)], capture_output=True)
    expect(r.returncode == 0, "expiring.pem expires within 9 days")


def check_certs_speed(tmp):
    out = os.path.join(tmp, "certs-speed")
    t0 = time.monotonic()
    r = subprocess.run([MAKE_CERTS, out], stdin=subprocess.DEVNULL, capture_output=True,
                       text=True, timeout=30)
    took = time.monotonic() - t0
    expect(r.returncode == 0, f"make-certs failed: {r.stderr}")
    expect(took < 3, f"make-certs took {took:.2f} s")
    r = subprocess.run([MAKE_CERTS], capture_output=True, text=True)
    expect(r.returncode == 2 and "usage" in r.stderr, "make-certs without OUTDIR: no usage")


# --------------------------------------------------------------------------
# SMTP checks with smtplib

def check_starttls_session(srv, certs):
    s = smtplib.SMTP("127.0.0.1", srv.ports["sub"], timeout=5)
    code, _ = s.ehlo()
    expect(code == 250, "EHLO failed")
    expect(s.has_extn("starttls"), "no STARTTLS before TLS")
    expect(not s.has_extn("auth"), "AUTH advertised before TLS")
    expect(s.noop()[1] == b"2.0.0 Ok", "default NOOP reply before TLS")
    code, msg = s.docmd("AUTH", "PLAIN AGFsaWNlAHMzY3JldA==")
    expect(code == 538, f"AUTH before TLS: expected 538, got {code} {msg}")
    s.mail("a@example.test")
    code, msg = s.rcpt("x@example.com")
    expect(code == 554 and b"Relay access denied" in msg, f"RCPT: {code} {msg}")
    s.starttls(context=client_ctx(certs))
    s.ehlo()
    expect(not s.has_extn("starttls"), "STARTTLS still advertised under TLS")
    expect(s.esmtp_features.get("auth", "").split() ==
           ["PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256", "NTLM"],
           f"AUTH line: {s.esmtp_features.get('auth')}")
    expect(s.noop()[1] == b"2.0.0 noop under tls", "on-tls NOOP not used")
    code, _ = s.docmd("STARTTLS")
    expect(code == 503, f"second STARTTLS: {code}")
    code, msg = s.docmd("DATA")
    expect(code == 554, f"DATA: {code} {msg}")
    s.login("alice@example.test", "s3cret")
    code, msg = s.rcpt("x@example.com")
    expect(code == 250 and msg == b"2.1.5 Ok", f"on-auth RCPT: {code} {msg}")
    code, _ = s.docmd("AUTH", "PLAIN")
    expect(code == 503, "AUTH after AUTH should be 503")
    s.quit()
    srv.wait_log(r"^\d+ sub TLS TLSv1\.3 \S+$")
    srv.wait_log(r"^\d+ sub C: DATA$")
    srv.wait_log(r"^\d+ sub AUTH-OK alice@example\.test$")


def login_with(srv, certs, label, mechanism, user, password):
    s = smtplib.SMTP_SSL("127.0.0.1", srv.ports[label], timeout=5, context=client_ctx(certs))
    s.ehlo()
    s.user, s.password = user, password
    method = getattr(s, "auth_" + mechanism.lower().replace("-", "_"))
    try:
        return s.auth(mechanism, method)
    except smtplib.SMTPAuthenticationError as exc:
        return exc.smtp_code, exc.smtp_error
    finally:
        s.close()


def check_auth_smtplib(srv, certs):
    for mech in ("PLAIN", "LOGIN", "CRAM-MD5"):
        for user in ("alice@example.test", "alice"):
            code, msg = login_with(srv, certs, "tls", mech, user, "s3cret")
            expect(code == 235, f"{mech} {user}: {code} {msg}")
    srv.wait_log(r"^\d+ tls AUTH-OK alice$")


def check_auth_wrong(srv, certs):
    for mech in ("PLAIN", "LOGIN", "CRAM-MD5"):
        t0 = time.monotonic()
        code, msg = login_with(srv, certs, "tls", mech, "alice", "wrong")
        expect(code == 535 and b"slow" in msg, f"{mech} wrong password: {code} {msg}")
        expect(time.monotonic() - t0 >= 0.3, "on-auth-fail @delay not applied")
    code, msg = login_with(srv, certs, "tls", "PLAIN", "mallory", "s3cret")
    expect(code == 535, f"unknown user: {code}")
    srv.wait_log(r"^\d+ tls AUTH-FAIL alice$")
    srv.wait_log(r"^\d+ tls AUTH-FAIL mallory$")


def scram_login(port, certs, mechanism, user, password):
    """An independent client side of RFC 5802 over smtplib's docmd."""
    hash_name = "sha256" if mechanism.endswith("256") else "sha1"
    digest = getattr(hashlib, hash_name)
    s = smtplib.SMTP_SSL("127.0.0.1", port, timeout=5, context=client_ctx(certs))
    try:
        s.ehlo()
        cnonce = base64.b64encode(secrets.token_bytes(12)).decode()
        bare = f"n={user.replace('=', '=3D').replace(',', '=2C')},r={cnonce}"
        code, msg = s.docmd("AUTH", f"{mechanism} " +
                            base64.b64encode(("n,," + bare).encode()).decode())
        expect(code == 334, f"{mechanism} first: {code} {msg}")
        server_first = base64.b64decode(msg).decode()
        attrs = dict(kv.split("=", 1) for kv in server_first.split(","))
        expect(attrs["r"].startswith(cnonce), "server nonce does not extend ours")
        salted = hashlib.pbkdf2_hmac(hash_name, password.encode(),
                                     base64.b64decode(attrs["s"]), int(attrs["i"]))
        without_proof = f"c={base64.b64encode(b'n,,').decode()},r={attrs['r']}"
        auth_message = f"{bare},{server_first},{without_proof}".encode()
        client_key = hmac.new(salted, b"Client Key", digest).digest()
        signature = hmac.new(digest(client_key).digest(), auth_message, digest).digest()
        proof = base64.b64encode(bytes(a ^ b for a, b in zip(client_key, signature))).decode()
        code, msg = s.docmd(base64.b64encode(f"{without_proof},p={proof}".encode()).decode())
        if code != 334:
            return code, None
        server_final = base64.b64decode(msg).decode()
        server_key = hmac.new(salted, b"Server Key", digest).digest()
        expected = base64.b64encode(hmac.new(server_key, auth_message, digest).digest())
        verified = server_final == "v=" + expected.decode()
        code, msg = s.docmd("")
        return code, verified
    finally:
        s.close()


def check_scram(srv, certs):
    for mech in ("SCRAM-SHA-256", "SCRAM-SHA-1"):
        code, verified = scram_login(srv.ports["tls"], certs, mech, "alice@example.test",
                                     "s3cret")
        expect(code == 235 and verified, f"{mech}: code {code}, server proof {verified}")
        code, _ = scram_login(srv.ports["tls"], certs, mech, "alice", "wrong")
        expect(code == 535, f"{mech} wrong password: {code}")
        code, _ = scram_login(srv.ports["tls"], certs, mech, "nobody", "s3cret")
        expect(code == 535, f"{mech} unknown user: {code}")


def check_auth_misc(srv, certs):
    s = smtplib.SMTP_SSL("127.0.0.1", srv.ports["tls"], timeout=5, context=client_ctx(certs))
    s.ehlo()
    code, _ = s.docmd("AUTH", "LOGIN")
    expect(code == 334, "AUTH LOGIN did not ask")
    code, msg = s.docmd("*")
    expect(code == 501 and b"aborted" in msg, f"cancel: {code} {msg}")
    code, _ = s.docmd("AUTH", "NTLM")
    expect(code == 504, f"advertised but unimplemented mechanism: {code}")
    code, _ = s.docmd("AUTH", "GSSAPI")
    expect(code == 504, f"unknown mechanism: {code}")
    code, _ = s.docmd("AUTH", "PLAIN !!!notbase64")
    expect(code == 501, f"bad base64: {code}")
    s.close()
    code, msg = login_with(srv, certs, "apppw", "PLAIN", "alice", "s3cret")
    expect(code == 534 and b"Application-specific" in msg, f"on AUTH override: {code} {msg}")
    srv.wait_log(r"^\d+ tls AUTH-ABORT$")
    srv.wait_log(r"^\d+ apppw C: AUTH PLAIN <redacted-by-server>$")


def check_log_redaction(srv):
    text = srv.log()
    for secret in ("s3cret", "wrong", base64.b64encode(b"\0alice\0s3cret").decode(),
                   base64.b64encode(b"s3cret").decode()):
        expect(secret not in text, f"log contains a secret: {secret!r}")
    expect(re.search(r"^\d+ tls C: AUTH PLAIN <redacted-by-server>$", text, re.M),
           "AUTH PLAIN line not redacted as documented")
    expect(re.search(r"^\d+ tls C: <redacted-by-server>$", text, re.M),
           "SASL continuation not redacted")


def check_tls_versions(srv, certs):
    s = smtplib.SMTP_SSL("127.0.0.1", srv.ports["tls"], timeout=5, context=client_ctx(certs))
    expect(s.sock.version() == "TLSv1.2", f"tls-versions TLSv1.2: got {s.sock.version()}")
    s.close()
    ctx = client_ctx(certs)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    try:
        smtplib.SMTP_SSL("127.0.0.1", srv.ports["tls"], timeout=5, context=ctx)
        raise AssertionError("TLS 1.3-only client connected to a TLS 1.2-only server")
    except ssl.SSLError:
        pass
    srv.wait_log(r"^\d+ tls TLS-FAIL ")
    ctx = client_ctx(certs)
    with warnings.catch_warnings():      # TLS 1.0 is deprecated: that is the point
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx.minimum_version = ssl.TLSVersion.TLSv1
    ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    s = smtplib.SMTP_SSL("127.0.0.1", srv.ports["old"], timeout=5, context=ctx)
    expect(s.sock.version() == "TLSv1.1", f"tls-versions TLSv1,TLSv1.1: {s.sock.version()}")
    s.close()


def check_sni(srv, certs):
    w = Wire(srv.ports["tls"])
    w.starttls(client_ctx(certs), "mail.test")
    expect(w.reply()[0].startswith("220 "), "no greeting under implicit TLS")
    w.close()
    srv.wait_log(r"^\d+ tls SNI mail\.test$")


def check_no_nagle_stall(srv, certs):
    """The first reply after a TLS handshake must not wait for a delayed
    ACK (Nagle): that 40 ms would show up as smtpcheck's slowness."""
    def timed(label):
        w = Wire(srv.ports[label])
        w.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if label == "sub":
            w.reply()
            w.send(b"STARTTLS\r\n")
            w.reply()
        w.starttls(client_ctx(certs))
        t0 = time.monotonic()
        if label == "sub":
            w.send(b"EHLO x\r\n")
        w.reply()
        took = time.monotonic() - t0
        w.close()
        return took
    for label in ("tls", "sub"):
        best = min(timed(label) for _ in range(3))
        expect(best < 0.02, f"{label}: first reply after the handshake took "
                            f"{best * 1000:.0f} ms")


def check_greeting_teaser(srv):
    w = Wire(srv.ports["clear"])
    t0 = time.monotonic()
    first = w.line()
    expect(first == b"220-mail.test please wait\r\n", f"teaser: {first!r}")
    expect(time.monotonic() - t0 < 0.3, "teaser came late")
    w.send(b"EHLO early\r\n")
    last = w.line()
    took = time.monotonic() - t0
    expect(last.startswith(b"220 "), f"final greeting: {last!r}")
    expect(took >= 0.35, f"greeting-delay ignored ({took:.2f} s)")
    expect(w.reply()[0].startswith("250"), "EHLO sent early not answered after greeting")
    w.close()
    srv.wait_log(r"^\d+ clear PREGREET EHLO early\\r\\n$")


def check_actions(srv):
    w = Wire(srv.ports["clear"])
    w.reply()
    w.send(b"VRFY x\r\n")
    expect(w.line() == b"252 raw\x00reply\r\n", "@raw with escapes")
    w.send(b"HELP\r\n")
    t0 = time.monotonic()
    expect(w.reply() == ["214-first", "214 second"], "lines + @delay + lines")
    expect(time.monotonic() - t0 >= 0.15, "@delay between reply parts ignored")
    w.send(b"EXPN x\r\n")
    while len(w.buf) < 100000:
        w.fill()
    expect(w.buf == b"A" * 100000, "@big 100000")
    w.buf = b""
    w.send(b"XYZZY\r\n")
    expect(w.reply()[0].startswith("502 "), "unknown command default")
    w.send(b"NOOP\r\n")
    t0 = time.monotonic()
    count = 0
    while time.monotonic() - t0 < 0.4:
        if w.line() == b"250-still going\r\n":
            count += 1
    expect(count >= 4, f"@drip sent {count} lines in 0.4 s")
    w.close()

    w = Wire(srv.ports["clear"])
    w.reply()
    w.send(b"ETRN x\r\n")
    expect(w.reply() == ["421 4.3.2 Shutting down"], "reply before @close")
    try:
        w.line()
        raise AssertionError("connection still open after @close")
    except EOFError:
        pass
    w.close()

    w = Wire(srv.ports["clear"])
    w.reply()
    w.send(b"TURN\r\n")
    try:
        w.line()
        raise AssertionError("no reset after @reset")
    except ConnectionResetError:
        pass
    w.close()
    srv.wait_log(r"^\d+ clear BIG 100000$")


def check_pipelined(srv):
    w = Wire(srv.ports["plain"])
    w.reply()
    w.send(b"EHLO x\r\nNOOP\r\nRSET\r\n")
    w.reply(), w.reply(), w.reply()
    w.send(b"QUIT\r\n")
    expect(w.reply()[0].startswith("221"), "QUIT")
    w.close()
    srv.wait_log(r"^\d+ plain PIPELINED 12 bytes: NOOP RSET$")


def check_slow_greeting(srv):
    w = Wire(srv.ports["slow"])
    t0 = time.monotonic()
    first = w.sock.recv(100)
    line = first
    while not line.endswith(b"\n"):
        line += w.sock.recv(100)
    took = time.monotonic() - t0
    expect(line == b"220 slow.test ESMTP trickling\r\n", f"trickled greeting {line!r}")
    expect(len(first) < len(line), "greeting came in one piece")
    expect(0.2 < took < 1.0, f"31 bytes at 100 B/s took {took:.2f} s")
    w.close()


def check_injection(srv, certs):
    # Correct server: plaintext behind STARTTLS is discarded.
    w = Wire(srv.ports["sub"])
    w.reply()
    w.send(b"EHLO x\r\n")
    w.reply()
    w.send(b"STARTTLS\r\nNOOP\r\n")
    expect(w.reply()[0].startswith("220 "), "STARTTLS reply")
    w.starttls(client_ctx(certs))
    w.sock.settimeout(0.4)
    try:
        data = w.sock.recv(100)
        raise AssertionError(f"server answered a command sent in clear: {data!r}")
    except (socket.timeout, TimeoutError):
        pass
    w.close()
    srv.wait_log(r"^\d+ sub DISCARD NOOP\\r\\n$")
    # Vulnerable server: the same bytes run after the upgrade.
    w = Wire(srv.ports["vuln"])
    w.reply()
    w.send(b"STARTTLS\r\nNOOP\r\n")
    expect(w.reply()[0].startswith("220 "), "STARTTLS reply")
    w.starttls(client_ctx(certs))
    expect(w.reply() == ["250 2.0.0 Ok"], "injected NOOP not executed under TLS")
    w.close()
    srv.wait_log(r"^\d+ vuln INJECTED NOOP\\r\\n$")
    # Server-side injection: clear bytes right behind the 220.
    w = Wire(srv.ports["inject"])
    w.reply()
    w.send(b"STARTTLS\r\n")
    expect(w.line() == b"220 2.0.0 Ready to start TLS\r\n", "STARTTLS reply")
    deadline = time.monotonic() + 1
    while len(w.buf) < 28 and time.monotonic() < deadline:
        w.fill()
    expect(w.buf == b"250-injected\r\n250 injected\r\n", f"injected bytes: {w.buf!r}")
    w.buf = b""
    w.starttls(client_ctx(certs))
    w.send(b"EHLO x\r\n")
    expect(w.reply()[0] == "250-mail.test", "EHLO under TLS after injection")
    w.close()


def check_scripted_handshakes(srv, certs):
    w = Wire(srv.ports["hsreset"])
    w.reply()
    w.send(b"STARTTLS\r\n")
    w.reply()
    try:
        w.starttls(client_ctx(certs))
        raise AssertionError("handshake succeeded on tls-handshake = reset")
    except (ConnectionResetError, ssl.SSLError) as exc:
        expect("reset" in str(exc).lower() or isinstance(exc, ConnectionResetError)
               or "EOF" in str(exc), f"unexpected error {exc!r}")
    w.close()
    srv.wait_log(r"^\d+ hsreset TLS-FAIL scripted: reset after \d+ bytes of ClientHello$")

    w = Wire(srv.ports["hssilent"], timeout=0.5)
    try:
        w.starttls(client_ctx(certs))
        raise AssertionError("handshake succeeded on tls-handshake = silent")
    except (socket.timeout, TimeoutError):
        pass
    w.close()
    srv.wait_log(r"^\d+ hssilent TLS-FAIL scripted: silence")

    w = Wire(srv.ports["hsplain"])
    try:
        w.starttls(client_ctx(certs))
        raise AssertionError("handshake succeeded on tls-handshake = plain")
    except ssl.SSLError as exc:
        expect("WRONG_VERSION" in str(exc).upper() or "record" in str(exc).lower(),
               f"unexpected {exc!r}")
    w.close()
    srv.wait_log(r"^\d+ hsplain S: 220 mail\.test ESMTP not TLS at all$")


def check_max_connections(srv):
    a, b = Wire(srv.ports["limited"]), Wire(srv.ports["limited"])
    expect(a.reply()[0].startswith("220") and b.reply()[0].startswith("220"), "greetings")
    c = Wire(srv.ports["limited"])
    expect(c.reply() == ["421 4.7.0 Too many connections"], "third connection not refused")
    c.close()
    a.send(b"QUIT\r\n")
    a.reply()
    a.close()
    srv.wait_log(r"^\d+ limited TOO-MANY 2$")
    deadline = time.monotonic() + 2
    while True:
        d = Wire(srv.ports["limited"])
        first = d.reply()[0]
        d.close()
        if first.startswith("220") or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    expect(first.startswith("220"), "slot not freed after QUIT")
    b.close()


def check_refused(srv):
    try:
        socket.create_connection(("127.0.0.1", srv.ports["off"]), timeout=2).close()
        raise AssertionError("accept = no port accepted a connection")
    except ConnectionRefusedError:
        pass


def check_silent_greeting(srv):
    w = Wire(srv.ports["silent"], timeout=0.3)
    w.send(b"EHLO x\r\n")
    try:
        w.fill()
        raise AssertionError(f"@silent greeting sent {w.buf!r}")
    except (socket.timeout, TimeoutError):
        pass
    w.close()
    srv.wait_log(r"^\d+ silent PREGREET EHLO x\\r\\n$")
    srv.wait_log(r"^\d+ silent C: EHLO x$")


def check_concurrency(srv, certs, count):
    """count sessions open at the same time, a third each on a clear, a
    STARTTLS and an implicit-TLS port; every one greeted (and upgraded) before
    any sends QUIT."""
    ctx = client_ctx(certs)
    labels = ["plain", "sub", "tls"]

    async def one(label, opened, all_open):
        tls = label == "tls"
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", srv.ports[label], ssl=ctx if tls else None,
            server_hostname="mail.test" if tls else None)
        greeting = await reader.readline()
        if label == "sub":
            writer.write(b"STARTTLS\r\n")
            await reader.readline()
            await writer.start_tls(ctx, server_hostname="mail.test")
        opened.append(label)
        if len(opened) == count:
            all_open.set()
        await all_open.wait()
        writer.write(b"QUIT\r\n")
        bye = await reader.readline()
        writer.close()
        return greeting.startswith(b"220 ") and bye.startswith(b"221 ")

    async def run():
        opened, all_open = [], asyncio.Event()
        tasks = [one(labels[i % 3], opened, all_open) for i in range(count)]
        return await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 120)

    t0 = time.monotonic()
    results = asyncio.run(run())
    took = time.monotonic() - t0
    bad = [r for r in results if r is not True]
    expect(not bad, f"{len(bad)} of {count} sessions failed, e.g. {bad[:3]}")
    print(f"     {count} concurrent sessions (clear, STARTTLS, TLS) in {took:.2f} s",
          flush=True)


def check_ipv6(certs, tmp):
    probe = socket.socket(socket.AF_INET6)
    try:
        probe.bind(("::1", 0))
    except OSError:
        print("     (no ::1 on this machine; skipped)")
        return
    finally:
        probe.close()
    srv = Server("[server six]\nmode = starttls\n", certs, tmp, "six", addr="::1")
    try:
        s = smtplib.SMTP("::1", srv.ports["six"], timeout=5)
        s.ehlo()
        s.starttls(context=client_ctx(certs))
        s.ehlo()
        s.quit()
        srv.wait_log(r"^\d+ six CONNECT \[::1\]:\d+$")
        srv.wait_log(r"^\d+ six TLS ")
    finally:
        expect(srv.stop() == 0, "::1 server did not exit 0")


def check_workers(certs, tmp):
    srv = Server("[server w]\nmode = clear\n", certs, tmp, "workers", "--workers", "2")
    try:
        for _ in range(30):
            w = Wire(srv.ports["w"])
            expect(w.reply()[0].startswith("220"), "no greeting from a worker")
            w.send(b"QUIT\r\n")
            w.reply()
            w.close()
        deadline = time.monotonic() + 3
        while len(re.findall(r" CLOSE$", srv.log(), re.M)) < 30 and time.monotonic() < deadline:
            time.sleep(0.05)
        ids = re.findall(r"^(\d+) w CONNECT", srv.log(), re.M)
        expect(len(ids) == 30 and len(set(ids)) == 30, f"connection ids not unique: {ids}")
    finally:
        t0 = time.monotonic()
        code = srv.stop()
        expect(code == 0 and time.monotonic() - t0 < 2, f"--workers stop: exit {code}")


def check_watch_stdin(certs, tmp):
    srv = Server("[server w]\nmode = clear\n", certs, tmp, "stdin", "--watch-stdin")
    srv.proc.stdin.close()
    try:
        code = srv.proc.wait(2)
    except subprocess.TimeoutExpired:
        srv.stop()
        raise AssertionError("server ignored end of stdin")
    expect(code == 0, f"exit {code} after end of stdin")


def check_startup_errors(certs, tmp):
    cases = [
        ("[server a]\nmode = clear\ngreting = 220 x\n", "'greting'"),
        ("[server a]\nmode = clear\non ehlo = 250 x\n", "upper case"),
        ("[server a]\nmode = tls\ncert = nosuch\n", "nosuch.pem"),
        ("[server a]\nmode = sometimes\n", "mode"),
        ("[server a]\non EHLO = @explode\n", "@explode"),
        ("[server a]\ntls-versions = TLSv9\n", "tls-versions"),
        ("[server a]\ngreeting-delay = soon\n", "greeting-delay"),
        ("[servr a]\nmode = clear\n", "[servr a]"),
        ("[test]\nargs = x\n", "no [server"),
        ("[server a]\nmode = clear\n[server a]\nmode = tls\n", "already exists"),
    ]
    for text, needle in cases:
        code, out, err = start_expect_error(certs, tmp, text)
        expect(code == 2 and needle in err and not out,
               f"{text!r}: exit {code}, stderr {err.strip()!r}, expected {needle!r}")
        expect("Traceback" not in err, f"traceback for {text!r}")
    code, _, err = start_expect_error(certs, tmp, "[server smtp]\nmode = clear\n",
                                      "--real-ports")
    expect(code == 2 and "not a port number" in err, f"--real-ports label: {err!r}")


def check_sigterm(srv):
    # Leave a connection open in a state that never ends on its own.
    before = len(re.findall(r"^\d+ silent CONNECT ", srv.log(), re.M))
    w = Wire(srv.ports["silent"])
    deadline = time.monotonic() + 2
    while len(re.findall(r"^\d+ silent CONNECT ", srv.log(), re.M)) == before:
        expect(time.monotonic() < deadline, "connection not logged")
        time.sleep(0.02)
    t0 = time.monotonic()
    code = srv.stop()
    took = time.monotonic() - t0
    w.close()
    expect(code == 0, f"exit status {code} after SIGTERM")
    expect(took < 1.5, f"SIGTERM took {took:.2f} s")
    srv.wait_log(r"^\d+ silent SHUTDOWN$")


# --------------------------------------------------------------------------
# Evaluator checks (scenario.py), on literal documents

DOC = {
    "status": "WARNING", "exit_code": 1, "summary": "two ports",
    "ports": [
        {"port": 587, "mode": "starttls", "connected": True, "error": None,
         "tls": {"ok": True, "version": "TLSv1.3", "cert": {"days_left": 40}},
         "auth_before_tls": [], "auth_after_tls": ["PLAIN", "LOGIN"]},
        {"port": 465, "mode": "tls", "connected": True, "error": None,
         "tls": {"ok": True, "version": "TLSv1.2", "cert": {"days_left": 8}},
         "auth_before_tls": None, "auth_after_tls": ["PLAIN"]},
    ],
    "findings": [
        {"id": "starttls-available", "severity": "ok", "port": 587},
        {"id": "cert-expiring", "severity": "warning", "port": 465},
        {"id": "summary", "severity": "info", "port": None},
    ],
    "empty": [], "one": 1, "flag": True, "zero": 0,
}


def outcome(doc=DOC, stdout=None, stderr="", log="", elapsed=1.0):
    return sc.Outcome(json.dumps(doc) if stdout is None else stdout, stderr, 0, elapsed, log)


def holds(line, out=None):
    return sc.parse_expectation(line).check(out or outcome()) is None


def check_json_paths():
    good = [
        'json status == "WARNING"',
        "json exit_code == 1",
        "json exit_code == 1.0",
        "json ports[0].port == 587",
        "json ports[-1].port == 465",
        "json ports[*].connected == true",
        "json ports[*].tls.version ~ ^TLSv1\\.[23]$",
        "json ports[*].error == null",
        "json ports[port=465].mode == \"tls\"",
        "json ports[port=465.0].mode == \"tls\"",
        "json ports[mode=starttls].port == 587",
        'json ports[mode="tls"].port == 465',
        "json ports[tls.version=TLSv1.2].port == 465",
        "json ports[port=587].auth_before_tls == []",
        'json ports[port=587].auth_after_tls contains "LOGIN"',
        'json ports[port=465].auth_after_tls !contains "LOGIN"',
        'json ports[*].auth_after_tls contains "PLAIN"',
        'json summary contains "two"',
        "json ports[0].tls.cert.days_left > 30",
        "json ports[*].tls.cert.days_left >= 8",
        "json ports[1].tls.cert.days_left < 10",
        "json ports[1].tls.cert.days_left <= 8",
        "json ports[0].error exists",
        "json ports[0].nonesuch missing",
        "json ports[port=25] missing",
        "json findings[id=cert-expiring].severity == \"warning\"",
        "json findings[id=summary].port == null",
        "json flag == true",
        "json flag != 1",
        "json zero != false",
        "json one != true",
        'json ports[0] != {}',
        "json empty == []",
        'json status !~ ^OK',
    ]
    for line in good:
        expect(holds(line), f"should hold: {line}")
    bad = [
        'json status == "OK"',
        "json ports[*].mode == \"tls\"",            # one element fails
        "json empty[*] == 1",                        # [*] needs an element
        "json ports[*].tls.cert.days_left > 10",
        "json exit_code ~ 1",                        # ~ needs a string
        "json ports[0].error !~ x",                  # null is not a string
        'json ports[port=465].auth_after_tls contains "LOGIN"',
        "json ports[port=25].mode exists",
        "json ports[0].port missing",
        "json flag == 1",
        "json zero == false",
        "json one == true",
        "json ports[5].port == 1",
        'json summary > 1',
        "json ports[0].tls.version >= 1",
    ]
    for line in bad:
        expect(not holds(line), f"should fail: {line}")


def check_expectation_kinds():
    out = outcome(stdout="SMTPCHECK OK - fine | 'time_587'=0.1s;;;0;\nsecond line\n",
                  stderr="warning: x\n", log="1 587 C: EHLO x\n1 587 C: QUIT\n2 465 C: QUIT\n",
                  elapsed=1.2)
    for line in ["firstline ~ ^SMTPCHECK OK - ", "firstline !~ second", "stdout ~ ^second",
                 "stdout !~ s3cret", "stderr ~ warning", "server-log ~ ^1 587 C: QUIT$",
                 "server-log !~ C: DATA", "server-log-count == 2 C: QUIT",
                 "server-log-count >= 1 EHLO", "max-seconds 1.5", "print-elapsed"]:
        expect(holds(line, out), f"should hold: {line}")
    for line in ["firstline ~ ^SMTPCHECK CRITICAL", "stdout ~ s3cret", "stderr !~ warning",
                 "server-log ~ C: DATA", "server-log-count == 1 C: QUIT", "max-seconds 1.0",
                 "json status == \"OK\""]:
        expect(not holds(line, out), f"should fail: {line}")
    for line in ["finding starttls-available", "finding starttls-available port=587",
                 "finding cert-expiring port=465 severity=warning", "no-finding cert-expired",
                 "no-finding starttls-available port=465"]:
        expect(holds(line), f"should hold: {line}")
    for line in ["finding cert-expired", "finding starttls-available port=465",
                 "finding cert-expiring severity=critical", "no-finding cert-expiring"]:
        expect(not holds(line), f"should fail: {line}")
    lines = outcome(stdout='{"a": 1}\n\n{"a": 2}\n')
    expect(holds("jsonl 2 a == 2", lines) and holds("json a == 1", lines)
           and not holds("jsonl 3 a == 2", lines), "jsonl / first document")
    expect(not holds("json a == 1", outcome(stdout="not json")), "non-JSON stdout")
    reason = sc.parse_expectation("finding cert-expired").check(outcome())
    expect("starttls-available(port=587,ok)" in reason, f"finding failure text: {reason}")
    reason = sc.parse_expectation('json ports[1].mode == "starttls"').check(outcome())
    expect(reason == 'ports[1].mode is "tls", expected "starttls"', f"reason text: {reason}")


def check_checker_contracts():
    ok = "SMTPCHECK OK - fine | 'time_587'=0.1s;;;0;\n"
    expect(sc.contract_checks(ok, 0, []) == [], "exit 0 with an OK line passes")
    for code in (99, 98, 23, -11, 4):
        expect(sc.contract_checks(ok, code, []), f"exit {code} must fail the contract")
    wide = ok.replace("fine", "x" * 90) + "  \u00e9" * 26 + "\n"   # 78 characters, 104 bytes
    expect(sc.contract_checks(wide, 0, []) == [], "status line and 78 characters pass")
    for args in ([], ["-4v"], ["--json"]):
        fails = sc.width_checks((wide + "y" * 81).splitlines(), args)
        expect(bool(fails) == (args != ["--json"]),
               f"81-column report line with {args}: {fails}")
    # --json error documents are checked like host documents: all keys.
    error_doc = {k: None for k in sc.HOST_KEYS}
    error_doc.update(version="1", status="UNKNOWN", exit_code=3, summary="bad",
                     error="bad", addresses=[], ports=[], findings=[], client_steps=[],
                     client_summaries=[])
    expect(sc.contract_checks(json.dumps(error_doc) + "\n", 3, ["--json"]) == [],
           "a complete error document passes")
    for key in ("client_steps", "client_summaries", "ports"):
        expect(sc.contract_checks(json.dumps(dict(error_doc, **{key: None})) + "\n", 3,
                                  ["--json"]),
               f"an error document whose {key} is null, not a list, fails")
    short = {"version": "1", "status": "UNKNOWN", "exit_code": 3, "summary": "bad",
             "error": "bad"}
    expect(sc.contract_checks(json.dumps(short) + "\n", 3, ["--json"]),
           "an error document without ports and the other keys fails")
    expect(sc.checker_reports("warning: x\n") == [], "a plain stderr line is no report")
    for text in ["==4242== Invalid read of size 8\n",
                 "x\n==1== 16 bytes in 1 blocks are definitely lost\n",
                 "=================================================================\n"
                 "==77==ERROR: AddressSanitizer: heap-use-after-free on address\n",
                 "src/reply.c:10:5: runtime error: signed integer overflow\n",
                 "==9==ERROR: LeakSanitizer: detected memory leaks\n"]:
        expect(sc.checker_reports(text), f"should be a checker report: {text!r}")


def check_expectation_syntax():
    for line in ["json status == OK", "json status =~ x", "json ports[0 == 1", "json",
                 "json a.b ~ (", "finding", "finding x port=abc", "stdout = x",
                 "max-seconds soon", "jsonl 0 a == 1", "frobnicate x", "json a exists 1",
                 "server-log-count 3 x", "json ports..x == 1"]:
        try:
            sc.parse_expectation(line)
        except sc.ScenarioError:
            continue
        raise AssertionError(f"accepted bad expectation: {line!r}")


def check_placeholders():
    subst = sc.make_substituter({"addr": "127.0.0.1", "ca": "/c/ca.pem", "certs": "/c",
                                 "smtpcheck": "/s", "tmp": "/t", "scndir": "/d"},
                                {"587": 40001, "465": 40002})
    expect(subst("--connect {addr} -p {port:587}/starttls,{port:465}/tls --ca-file {ca}") ==
           "--connect 127.0.0.1 -p 40001/starttls,40002/tls --ca-file /c/ca.pem",
           "basic substitution")
    expect(subst(r"json x == {} and \d{2} {tmp}") == r"json x == {} and \d{2} /t",
           "non-placeholder braces must stay")
    try:
        subst("{port:25}")
        raise AssertionError("unknown {port:25} accepted")
    except sc.ScenarioError:
        pass
    word = subst("a{byte:1b}[1m{byte:ff}")
    expect(os.fsencode(word) == b"a\x1b[1m\xff", f"{{byte:HH}} gives raw bytes: {word!r}")


BACKENDS_SCN = """
[test]
backends = scripted postfix
hosts = 127.0.0.1 mail.test
args = --json mail.test
expect = json status == "OK"
         [scripted] server-log ~ C: QUIT
         [postfix] server-log ~ disconnect from

[postfix]
profile = modern

[server 587]
mode = starttls
"""


def check_backends(tmp):
    path = os.path.join(tmp, "backends.scn")

    def scenario(text):
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return sc.Scenario(path)

    scn = scenario(BACKENDS_SCN)
    expect(scn.backends == ["scripted", "postfix"], f"backends {scn.backends}")
    expect(scn.postfix_profile == "modern", f"profile {scn.postfix_profile!r}")
    same = lambda text: text                                        # noqa: E731
    for backend, wanted in (("scripted", "C: QUIT"), ("postfix", "disconnect from")):
        texts = [e.text for e in scn.expectations(same, backend)]
        expect(len(texts) == 2 and texts[0] == 'json status == "OK"' and wanted in texts[1],
               f"{backend} expectations: {texts}")
    server_text = scn.server_scenario()
    expect("[postfix]" not in server_text.splitlines() and "profile" not in server_text
           and "[server 587]" in server_text and "[test]" in server_text,
           f"server copy:\n{server_text}")
    expect(scenario("[test]\nargs = x\n").backends == ["scripted"], "default backend")
    bad = [
        BACKENDS_SCN.replace("scripted postfix", "scripted exim"),
        BACKENDS_SCN.replace("scripted postfix", "scripted scripted"),
        BACKENDS_SCN.replace("scripted postfix", "scripted"),           # [postfix] unused
        BACKENDS_SCN.replace("profile = modern", "profiel = modern"),
        BACKENDS_SCN.replace("profile = modern", "profile = Mod ern"),
        BACKENDS_SCN.replace("hosts = 127.0.0.1 mail.test\n", ""),     # no namespace
        BACKENDS_SCN.replace("[postfix]\nprofile = modern\n", ""),     # no profile
        BACKENDS_SCN.replace("[postfix] server-log", "[exim] server-log"),
        BACKENDS_SCN.replace("[server 587]\nmode = starttls\n", ""),   # scripted, no server
    ]
    for text in bad:
        try:
            scenario(text)
        except sc.ScenarioError:
            continue
        raise AssertionError(f"accepted a bad scenario:\n{text}")
    # The runner's plan: one run per backend, names labelled only then.
    from importlib.machinery import SourceFileLoader
    runner = SourceFileLoader("run_scenarios", RUNNER).load_module()
    plain = os.path.join(tmp, "plain.scn")
    with open(plain, "w", encoding="utf-8") as f:
        f.write("[test]\nargs = x\n")
    scenario(BACKENDS_SCN)
    plan = runner.plan_runs([plain, path], [])
    expect(plan == [(plain, "scripted", False), (path, "scripted", True),
                    (path, "postfix", True)], f"plan {plan}")
    expect(runner.plan_runs([plain, path], ["postfix"]) == [(path, "postfix", True)],
           "--backend postfix")
    expect(runner.display_name(path, "postfix", True) == "backends[postfix]", "name")


# --------------------------------------------------------------------------
# The runner, end to end

def live_servers(marker):
    """PIDs of smtpserver.py processes whose command line mentions marker."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    cmd = f.read().decode("utf-8", "replace")
            except OSError:
                continue
            if "smtpserver.py" in cmd and marker in cmd:
                pids.append(int(entry))
    return pids


def check_runner(tmp):
    selftest_dir = os.path.join(HERE, "selftest")
    certs = os.path.join(tmp, "runner-certs")
    r = subprocess.run([sys.executable, RUNNER, "--smtpcheck", sys.executable, "--jobs", "4",
                        "--certs", certs, *sorted(
                            os.path.join(selftest_dir, f) for f in os.listdir(selftest_dir)
                            if f.endswith(".scn"))],
                       capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    out = r.stdout
    expect(r.returncode == 1, f"runner exit {r.returncode} (want 1: some must fail)")
    expect("Traceback" not in out + r.stderr, f"traceback in runner output:\n{out}{r.stderr}")
    wanted = [
        r"^PASS runner-pass \(\d+\.\d\d s\) \[smtpcheck \d+\.\d{3} s\]$",
        r"^PASS runner-files \(\d+\.\d\d s\)$",
        r"^FAIL runner-fail: exit code 0, expected 3 \(and 2 more\)$",
        r"^    expected: json ports\[0\]\.tls\.version == \"SSLv2\"$",
        r"^      actual: ports\[0\]\.tls\.version is \"TLSv1\.[23]\", expected \"SSLv2\"$",
        r"^    --- stdout \(first 40 lines\) ---$",
        r"^SKIP runner-skip: requires --real-ports$",
        r"^FAIL runner-timeout: killed after 1 s$",
        r"^FAIL runner-badkey: bad scenario: \[test\]: unknown key 'expcet'",
        r"^FAIL runner-badserver: server did not start \(exit 2\): .*unknown key 'greting'",
        r"^scenarios: 7 run, 2 passed, 4 failed, 1 skipped$",
    ]
    for regex in wanted:
        expect(re.search(regex, out, re.M), f"runner output lacks /{regex}/:\n{out}")
    expect(os.path.isfile(os.path.join(certs, "stamp")), "--certs DIR not populated")
    expect(not live_servers(selftest_dir), "a server outlived the runner")

    r = subprocess.run([sys.executable, RUNNER, "--smtpcheck", os.path.join(tmp, "nothing"),
                        "--certs", certs, os.path.join(REPO, "tests", "scenarios", "refused.scn")],
                       capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    expect(r.returncode == 1 and re.search(r"^FAIL refused: smtpcheck not found: ", r.stdout,
                                           re.M), f"missing binary:\n{r.stdout}{r.stderr}")
    expect("Traceback" not in r.stdout + r.stderr, "traceback for a missing binary")


def check_runner_interrupt(tmp):
    """SIGINT in the middle of a run: servers go, exit 130."""
    scn = os.path.join(tmp, "slow-interrupt.scn")
    with open(scn, "w", encoding="utf-8") as f:
        f.write("[test]\nargs = -c \"import time; time.sleep(30)\"\ntimeout = 60\n"
                "[server a]\nmode = clear\n")
    proc = subprocess.Popen([sys.executable, RUNNER, "--smtpcheck", sys.executable,
                             "--certs", os.path.join(tmp, "runner-certs"), scn],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while not live_servers(scn) and time.monotonic() < deadline:
        time.sleep(0.05)
    expect(live_servers(scn), "server never started")
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    try:
        out, err = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise AssertionError("runner hung after SIGINT")
    expect(proc.returncode == 130, f"exit {proc.returncode} after SIGINT: {err.decode()}")
    time.sleep(0.2)
    expect(not live_servers(scn), "server left behind after SIGINT")


# The postfix lab on the way out (needs root, postfix and dovecot)

LAB_SCN = """[test]
backends = postfix
hosts = 127.0.0.1 mail.test
args = -c "import time; time.sleep({sleep}); print('{{}}')"
exit = 0
expect = json status == "OK"
timeout = 90

[postfix]
profile = modern
"""
LAB_EXES = ("/usr/lib/postfix/", "/usr/lib/dovecot/", "/usr/sbin/postfix", "/usr/sbin/dovecot")


def lab_check_missing():
    """Why the lab clean-up check cannot run here, or None."""
    from importlib.machinery import SourceFileLoader
    runner = SourceFileLoader("run_scenarios", RUNNER).load_module()
    return runner.postfix_missing()


def netns_id(name):
    try:
        st = os.stat(f"/run/netns/{name}")
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def procs_in_netns(ns):
    """[(pid, exe)] of the live (not zombie) processes in namespace ns."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            st = os.stat(f"/proc/{entry}/ns/net")
            if (st.st_dev, st.st_ino) != ns:
                continue
            with open(f"/proc/{entry}/stat", encoding="utf-8", errors="replace") as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    continue
            found.append((int(entry), os.readlink(f"/proc/{entry}/exe")))
        except (OSError, IndexError):
            continue
    return found


def lab_procs(ns):
    return [p for p in procs_in_netns(ns) if p[1].startswith(LAB_EXES)]


def leftovers(runner_pid, ns):
    """What of the run of runner_pid is still there: its namespaces (by
    name), and any process in the namespace ns it had."""
    left = [f"namespace {n}" for n in os.listdir("/run/netns")
            if n.startswith(f"smtpck-{runner_pid}-")] if os.path.isdir("/run/netns") else []
    left += [f"/etc/netns/{n}" for n in os.listdir("/etc/netns")
             if n.startswith(f"smtpck-{runner_pid}-")] if os.path.isdir("/etc/netns") else []
    left += [f"pid {pid} ({exe})" for pid, exe in procs_in_netns(ns)]
    return left


def run_lab_scenario(tmp, base, name, sleep):
    """Start run-scenarios on a postfix scenario (python standing in for
    smtpcheck: it sleeps, then prints {}); wait until the lab runs and the
    stand-in sleeps in the run's namespace.  -> (proc, namespace id, lab
    processes, stderr path)"""
    scn = os.path.join(tmp, f"{name}.scn")
    with open(scn, "w", encoding="utf-8") as f:
        f.write(LAB_SCN.format(sleep=sleep))
    err_path = os.path.join(tmp, f"{name}.err")
    with open(os.path.join(tmp, f"{name}.out"), "wb") as out, open(err_path, "wb") as err:
        proc = subprocess.Popen([sys.executable, RUNNER, "--smtpcheck", sys.executable,
                                 "--certs", os.path.join(tmp, "runner-certs"), scn],
                                stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                env=dict(os.environ, TMPDIR=base))
    ns, labs = None, []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and proc.poll() is None:
        ns = ns or netns_id(f"smtpck-{proc.pid}-1")
        if ns:
            procs = procs_in_netns(ns)
            labs = [p for p in procs if p[1].startswith(LAB_EXES)]
            if labs and any(exe == os.path.realpath(sys.executable) for _, exe in procs):
                return proc, ns, labs, err_path
        time.sleep(0.05)
    proc.kill()
    proc.wait()
    raise AssertionError(f"{name}: the lab never ran with the stand-in in its namespace "
                         f"(runner exit {proc.returncode}, lab {labs})")


def wait_gone(runner_pid, ns, seconds):
    deadline = time.monotonic() + seconds
    while True:
        left = leftovers(runner_pid, ns)
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.05)


def mop_up(runner_pid, base, namespaces):
    """After a failed check: stop what a run of runner_pid left behind, also
    in its namespaces already deleted (ids in namespaces)."""
    import glob
    names = [n for n in (os.listdir("/run/netns") if os.path.isdir("/run/netns") else [])
             if n.startswith(f"smtpck-{runner_pid}-")]
    lab = os.path.join(REPO, "scripts", "postfix-lab")
    for d in glob.glob(os.path.join(base, "*", "pf.*")):
        for n in names or [f"smtpck-{runner_pid}-1"]:
            subprocess.run([lab, "stop", "--netns", n, "--dir", d], stdin=subprocess.DEVNULL,
                           capture_output=True)
    for n in names:
        r = subprocess.run(["ip", "netns", "pids", n], capture_output=True, text=True)
        for pid in r.stdout.split():
            try:
                os.kill(int(pid), signal.SIGKILL)
            except (OSError, ValueError):
                pass
        subprocess.run(["ip", "netns", "del", n], capture_output=True)
        shutil.rmtree(f"/etc/netns/{n}", ignore_errors=True)
    for ns in namespaces:
        for pid, _ in procs_in_netns(ns):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


def check_runner_lab_cleanup(tmp):
    """The lab goes however the run ends: SIGKILL of the runner mid-run
    (the guard cleans up) and a FAILing scenario (the runner does)."""
    base = tempfile.mkdtemp(prefix="sclab.", dir="/tmp")  # short: Dovecot's sockets
    os.chmod(base, 0o711)           # searchable: Postfix's master, as postfix
    proc = None
    runners, namespaces = [], []
    try:
        proc, ns, labs, err_path = run_lab_scenario(tmp, base, "lab-sigkill", 60)
        runners.append(proc.pid)
        namespaces.append(ns)
        expect(any(exe.endswith("/master") for _, exe in labs) and
               any("dovecot" in exe for _, exe in labs), f"lab processes seen: {labs}")
        time.sleep(0.2)
        t0 = time.monotonic()
        proc.kill()
        proc.wait()
        left = wait_gone(proc.pid, ns, 5)
        expect(not left, f"5 s after SIGKILL of the runner still there: {left}")
        gone_after = time.monotonic() - t0
        with open(err_path, encoding="utf-8", errors="replace") as f:
            err = f.read()
        expect("guard: end of input" in err, f"the guard did not report its clean-up: {err}")

        proc, ns, labs, err_path = run_lab_scenario(tmp, base, "lab-fail", 3)
        runners.append(proc.pid)
        namespaces.append(ns)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise AssertionError("runner hung on a failing postfix scenario")
        with open(os.path.join(tmp, "lab-fail.out"), encoding="utf-8") as f:
            out = f.read()
        with open(err_path, encoding="utf-8", errors="replace") as f:
            err = f.read()
        expect(proc.returncode == 1 and re.search(
            r"^FAIL lab-fail\[postfix\]: json status == \"OK\": status is missing", out, re.M),
            f"want exit 1 and a FAIL of lab-fail[postfix]: exit {proc.returncode}\n{out}{err}")
        left = leftovers(proc.pid, ns)
        expect(not left, f"after a FAIL the runner exited leaving: {left}")
        expect("guard: end of input" not in err, f"the runner left its clean-up to the guard: {err}")
        proc = None
        runners = []
        print(f"     (SIGKILL: lab and namespace gone {gone_after:.2f} s after the kill)",
              flush=True)
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        for pid in runners:         # only when the check failed
            mop_up(pid, base, namespaces)
        shutil.rmtree(base, ignore_errors=True)


# --------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--stress", type=int, default=1000, metavar="N",
                    help="concurrent connections in the load check (default 1000)")
    ap.add_argument("-v", "--verbose", action="store_true", help="tracebacks for failures")
    args = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    checks = Checks(args.verbose)
    tmp = tempfile.mkdtemp(prefix="smtpcheck-selftest.")
    srv = None
    try:
        certs = os.path.join(tmp, "certs")
        checks.run("make-certs runs in < 3 s", check_certs_speed, tmp)
        r = subprocess.run([MAKE_CERTS, certs], capture_output=True, text=True,
                           stdin=subprocess.DEVNULL)
        if r.returncode != 0:
            checks.fail("make-certs", r.stderr)
            return 1
        checks.run("certificates verify as designed", check_certs, certs)
        srv = Server(SCENARIO, certs, tmp, "main")
        checks.run("STARTTLS session, relay policy, on-tls/on-auth keys",
                   check_starttls_session, srv, certs)
        checks.run("AUTH PLAIN/LOGIN/CRAM-MD5 via smtplib", check_auth_smtplib, srv, certs)
        checks.run("wrong password -> 535 (+ on-auth-fail)", check_auth_wrong, srv, certs)
        checks.run("SCRAM-SHA-256 and SCRAM-SHA-1", check_scram, srv, certs)
        checks.run("AUTH cancel, unknown mechanism, on AUTH override",
                   check_auth_misc, srv, certs)
        checks.run("log redacts credentials", check_log_redaction, srv)
        checks.run("tls-versions (1.2 only; 1.0-1.1)", check_tls_versions, srv, certs)
        checks.run("SNI logged", check_sni, srv, certs)
        checks.run("no Nagle stall after the TLS handshake", check_no_nagle_stall,
                   srv, certs)
        checks.run("greeting teaser, delay, PREGREET", check_greeting_teaser, srv)
        checks.run("actions @raw @delay @big @drip @close @reset", check_actions, srv)
        checks.run("PIPELINED event", check_pipelined, srv)
        checks.run("@bytes-per-second greeting", check_slow_greeting, srv)
        checks.run("STARTTLS injection: discard, vulnerable, server-side",
                   check_injection, srv, certs)
        checks.run("tls-handshake reset / silent / plain", check_scripted_handshakes,
                   srv, certs)
        checks.run("max-connections", check_max_connections, srv)
        checks.run("accept = no refuses", check_refused, srv)
        checks.run("@silent greeting", check_silent_greeting, srv)
        checks.run(f"{args.stress} concurrent connections", check_concurrency, srv, certs,
                   args.stress)
        checks.run("SIGTERM exits 0 promptly", check_sigterm, srv)
        checks.run("--addr ::1", check_ipv6, certs, tmp)
        checks.run("--workers 2", check_workers, certs, tmp)
        checks.run("--watch-stdin", check_watch_stdin, certs, tmp)
        checks.run("start-up errors exit 2 naming the culprit", check_startup_errors,
                   certs, tmp)
        checks.run("JSON paths and operators", check_json_paths)
        checks.run("expectation kinds", check_expectation_kinds)
        checks.run("expectation syntax errors", check_expectation_syntax)
        checks.run("exit codes beyond 0-3 and checker reports fail", check_checker_contracts)
        checks.run("placeholders", check_placeholders)
        checks.run("backends, [postfix], [backend] prefixes", check_backends, tmp)
        checks.run("run-scenarios end to end", check_runner, tmp)
        checks.run("run-scenarios on SIGINT", check_runner_interrupt, tmp)
        why = lab_check_missing()
        if why:
            print(f"skip run-scenarios: postfix lab gone on SIGKILL and on FAIL: {why}")
        else:
            checks.run("run-scenarios: postfix lab gone on SIGKILL and on FAIL",
                       check_runner_lab_cleanup, tmp)
    finally:
        if srv is not None:
            srv.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    passed = sum(checks.results)
    failed = len(checks.results) - passed
    print(f"selftest: {len(checks.results)} checks, {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
