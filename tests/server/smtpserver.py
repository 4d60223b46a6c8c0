#!/usr/bin/env python3
"""smtpserver.py -- the scripted SMTP server of smtpcheck's scenario tests.

Usage:
    smtpserver.py --scenario FILE --certs DIR [--addr 127.0.0.1] [--real-ports]
                  [--log FILE] [--workers N] [--watch-stdin] [--verbose]

Reads the `[server LABEL]` sections of a scenario file (tests/scenarios/*.scn,
format in tests/scenarios/README.md), binds one listening socket per section
(an ephemeral port, or port LABEL with --real-ports), prints one line
`READY LABEL=PORT ...` and then plays each section's script to every client
that connects, until SIGTERM or SIGINT (exit 0).  With --watch-stdin it also
stops when its stdin reaches end-of-file, so a runner that dies, even by
SIGKILL, never leaves a server behind.

This file owns: the scenario-file reader for server sections (every key is
checked at start-up; an unknown key or a bad value exits 2), the per-connection
SMTP session (greeting, command replies, STARTTLS and implicit TLS, scripted
TLS failures, the server side of AUTH PLAIN / LOGIN / CRAM-MD5 / SCRAM-SHA-1 /
SCRAM-SHA-256), and the event log that tests grep.

Event log (--log FILE): one line per event, `<conn-id> <label> <event>`,
written with a single O_APPEND write so it stays readable while the server
runs, even with several --workers.  Bytes from the client are shown escaped
(printable ASCII as is, `\\r`, `\\n`, `\\t`, `\\\\`, `\\xNN` otherwise).
    CONNECT <peer>              a client connected
    PREGREET <bytes>            the client sent bytes before the greeting was
                                complete (postscreen would punish this)
    C: <line>                   a command line, line end removed when it is
                                CRLF (a bare LF shows as \\n); SASL payloads
                                show as <redacted-by-server>
    PIPELINED <n> bytes: VERBS  the client sent more before this command's reply
    S: <line>                   a reply line (or a line of raw bytes) sent
    BIG <n>                     @big sent n bytes
    DISCARD <bytes>             clear-text bytes buffered behind STARTTLS,
                                thrown away at the upgrade (correct behaviour)
    INJECTED <bytes>            the same bytes kept and executed after the
                                upgrade (starttls-injection-vulnerable = yes)
    SNI <name>                  server name sent by the client in its ClientHello
    TLS <version> <cipher>      a TLS session is established
    TLS-FAIL <reason>           the handshake failed (or was scripted to fail)
    AUTH-OK <user> / AUTH-FAIL <user> / AUTH-ABORT
    TOO-MANY <n>                refused by max-connections
    EOF                         the client closed its side first
    SHUTDOWN                    the server stopped while the connection was open
    ERROR <text>                an unexpected server-side exception
    CLOSE                       the connection is finished (always the last)
"""

import argparse
import errno
import asyncio
import base64
import collections
import configparser
import hashlib
import hmac
import ipaddress
import itertools
import os
import re
import resource
import secrets
import signal
import socket
import ssl
import struct
import sys
import threading
import time

BACKLOG = 4096              # the kernel caps it at net.core.somaxconn
MAX_LINE = 65536            # a longer line without LF is cut and handled as one
LOG_SNIPPET = 2000          # longest byte string copied into one log event
SCRAM_ITERATIONS = 4096     # RFC 7677 minimum

# Outcome of playing a reply script.
CONTINUE, CLOSED, SILENT = "continue", "closed", "silent"


class ScenarioError(Exception):
    """A scenario file the server cannot play; the message names the culprit."""


# --------------------------------------------------------------------------
# Small helpers

def escape(data):
    """Bytes -> one printable ASCII line, Python-escape style, no quotes."""
    return data.decode("latin-1").encode("unicode_escape").decode("ascii")


def unescape(text, what):
    """Interpret Python escapes (\\r \\n \\x00 ...) in a scenario value -> bytes."""
    try:
        return text.encode("utf-8").decode("unicode_escape").encode("latin-1")
    except (UnicodeDecodeError, UnicodeEncodeError) as exc:
        raise ScenarioError(f"{what}: bad escape sequence ({exc})") from None


def line_end_stripped(line):
    """A received/sent line without its CRLF; a bare LF stays visible."""
    return line[:-2] if line.endswith(b"\r\n") else line


def with_crlf(data):
    return data if data.endswith(b"\n") else data + b"\r\n"


def parse_bool(value, what):
    v = value.strip().lower()
    if v in ("yes", "true", "on", "1"):
        return True
    if v in ("no", "false", "off", "0"):
        return False
    raise ScenarioError(f"{what}: expected yes or no, got {value!r}")


def parse_number(value, what, kind=float, minimum=0):
    try:
        n = kind(value.strip())
    except ValueError:
        raise ScenarioError(f"{what}: expected a number, got {value!r}") from None
    if n < minimum:
        raise ScenarioError(f"{what}: must be >= {minimum}, got {value!r}")
    return n


def reply_code(line):
    """The 3-character code of a reply line (str), or '' when there is none."""
    return line[:3] if len(line) >= 3 else ""


# --------------------------------------------------------------------------
# Reply scripts: a value is a list of steps, played in order.
#   ("lines", [str, ...])        reply lines, sent in one write with CRLF each
#   ("raw", bytes)               @raw
#   ("delay", seconds)           @delay
#   ("close",) ("reset",) ("abort",) ("silent",)
#   ("drip", seconds, bytes)     @drip: endless, the session then only listens
#   ("trickle", n, bytes)        @bytes-per-second
#   ("big", n)                   @big

def parse_script(value, what):
    steps = []
    for raw_line in value.split("\n"):
        line = raw_line.strip()
        if not line:
            continue
        if not line.startswith("@"):
            if steps and steps[-1][0] == "lines":
                steps[-1][1].append(line)
            else:
                steps.append(("lines", [line]))
            continue
        action, _, arg = line.partition(" ")
        arg = arg.strip()
        if action in ("@close", "@reset", "@abort", "@silent"):
            if arg:
                raise ScenarioError(f"{what}: {action} takes no argument")
            steps.append((action[1:],))
        elif action == "@raw":
            if not arg:
                raise ScenarioError(f"{what}: @raw needs bytes to send")
            steps.append(("raw", unescape(arg, what)))
        elif action == "@delay":
            steps.append(("delay", parse_number(arg, f"{what}: @delay")))
        elif action == "@drip":
            secs, _, text = arg.partition(" ")
            if not text:
                raise ScenarioError(f"{what}: usage @drip SECONDS LINE")
            seconds = parse_number(secs, f"{what}: @drip")
            if seconds <= 0:
                raise ScenarioError(f"{what}: @drip interval must be > 0")
            steps.append(("drip", seconds, text.encode("utf-8") + b"\r\n"))
        elif action == "@bytes-per-second":
            rate, _, text = arg.partition(" ")
            if not text:
                raise ScenarioError(f"{what}: usage @bytes-per-second N REPLY")
            n = parse_number(rate, f"{what}: @bytes-per-second", int, 1)
            steps.append(("trickle", n, with_crlf(unescape(text, what))))
        elif action == "@big":
            steps.append(("big", parse_number(arg, f"{what}: @big", int, 1)))
        else:
            raise ScenarioError(f"{what}: unknown action {action!r} (known: @close "
                                "@reset @abort @silent @raw @delay @drip "
                                "@bytes-per-second @big)")
    if not steps:
        raise ScenarioError(f"{what}: empty reply")
    return steps


# --------------------------------------------------------------------------
# Scenario file -> one ServerConfig per [server LABEL]

TLS_VERSIONS = {
    "TLSv1": ssl.TLSVersion.TLSv1,
    "TLSv1.0": ssl.TLSVersion.TLSv1,
    "TLSv1.1": ssl.TLSVersion.TLSv1_1,
    "TLSv1.2": ssl.TLSVersion.TLSv1_2,
    "TLSv1.3": ssl.TLSVersion.TLSv1_3,
}
IMPLEMENTED_SASL = ("PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256")
REPLY_KEY = re.compile(r"^(on|on-tls|on-auth) (\S+)$")
LABEL_RE = re.compile(r"^[A-Za-z0-9_.-]+$")


class ServerConfig:
    """Everything one [server LABEL] section says, checked and parsed."""

    def __init__(self, label):
        self.label = label
        self.mode = "starttls"
        self.cert = "good"
        self.tls_versions = None            # (min, max) or None
        self.ciphers = None
        self.hostname = "mail.test"
        self.greeting = None                # script; default built from hostname
        self.greeting_delay = 0.0
        self.greeting_teaser = None
        self.extensions = ["8BITMIME"]
        self.replies = {}                   # "on EHLO" / "on-tls *" ... -> script
        self.after_starttls_plain = b""
        self.injection_vulnerable = False
        self.tls_handshake = ("ok", None)
        self.users = {}
        self.auth_mechanisms = []
        self.auth_before_tls = False
        self.on_auth_fail = [("lines", ["535 5.7.8 Error: authentication failed"])]
        self.max_connections = None
        self.accept = "yes"                 # "yes", "no" or "stall"
        self.on_bytes = None                # script for the first bytes while silent
        self.ssl_context = None

    # key -> method that parses the value
    def set(self, key, value):
        what = f"[server {self.label}] {key}"
        m = REPLY_KEY.match(key)
        if m:
            verb = m.group(2)
            if verb != "*" and not re.match(r"^[A-Z][A-Z0-9-]*$", verb):
                raise ScenarioError(f"{what}: the verb must be upper case "
                                    f"(write '{m.group(1)} {verb.upper()}')")
            self.replies[key] = parse_script(value, what)
            return
        setter = self.SETTERS.get(key)
        if setter is None:
            raise ScenarioError(f"[server {self.label}]: unknown key {key!r}")
        setter(self, value, what)

    def _mode(self, value, what):
        if value not in ("clear", "starttls", "tls"):
            raise ScenarioError(f"{what}: expected clear, starttls or tls, got {value!r}")
        self.mode = value

    def _cert(self, value, what):
        if not re.match(r"^[A-Za-z0-9_.-]+$", value):
            raise ScenarioError(f"{what}: bad certificate name {value!r}")
        self.cert = value

    def _tls_versions(self, value, what):
        names = [v.strip() for v in value.split(",")]
        if len(names) == 1:
            names = names * 2
        if len(names) != 2 or any(n not in TLS_VERSIONS for n in names):
            raise ScenarioError(f"{what}: expected MIN,MAX from "
                                f"{', '.join(TLS_VERSIONS)}; got {value!r}")
        self.tls_versions = (TLS_VERSIONS[names[0]], TLS_VERSIONS[names[1]])

    def _ciphers(self, value, what):
        self.ciphers = value

    def _hostname(self, value, what):
        self.hostname = value

    def _greeting(self, value, what):
        self.greeting = parse_script(value, what)

    def _greeting_delay(self, value, what):
        self.greeting_delay = parse_number(value, what)

    def _greeting_teaser(self, value, what):
        self.greeting_teaser = parse_script(value, what)

    def _extensions(self, value, what):
        self.extensions = [v.strip() for v in value.split("\n") if v.strip()]

    def _after_starttls_plain(self, value, what):
        self.after_starttls_plain = unescape(value, what)

    def _injection(self, value, what):
        self.injection_vulnerable = parse_bool(value, what)

    def _tls_handshake(self, value, what):
        kind, _, arg = value.partition(" ")
        if kind in ("ok", "reset", "silent") and not arg:
            self.tls_handshake = (kind, None)
        elif kind == "plain" and arg:
            self.tls_handshake = ("plain", with_crlf(unescape(arg.strip(), what)))
        else:
            raise ScenarioError(f"{what}: expected ok, reset, silent or plain TEXT; "
                                f"got {value!r}")

    def _users(self, value, what):
        for pair in value.split():
            name, sep, password = pair.partition(":")
            if not sep or not name:
                raise ScenarioError(f"{what}: expected name:password pairs, got {pair!r}")
            self.users[name] = password

    def _auth_mechanisms(self, value, what):
        self.auth_mechanisms = [m.upper() for m in re.split(r"[\s,]+", value) if m]

    def _auth_before_tls(self, value, what):
        self.auth_before_tls = parse_bool(value, what)

    def _on_auth_fail(self, value, what):
        self.on_auth_fail = parse_script(value, what)

    def _max_connections(self, value, what):
        self.max_connections = parse_number(value, what, int, 0)

    def _accept(self, value, what):
        # yes: serve; no: nothing listens (refused); stall: listening, but the
        # TCP handshake never completes (see stall_listener).
        if value.strip().lower() == "stall":
            self.accept = "stall"
            return
        try:
            self.accept = "yes" if parse_bool(value, what) else "no"
        except ScenarioError:
            raise ScenarioError(f"{what}: expected yes, no or stall, got {value!r}") from None

    def _on_bytes(self, value, what):
        # Played once when the client sends anything while the session is
        # silent (after @silent, e.g. `greeting = @silent`): a service that
        # waits for the client to speak first, such as a web server.
        self.on_bytes = parse_script(value, what)

    SETTERS = {
        "mode": _mode,
        "cert": _cert,
        "tls-versions": _tls_versions,
        "ciphers": _ciphers,
        "hostname": _hostname,
        "greeting": _greeting,
        "greeting-delay": _greeting_delay,
        "greeting-teaser": _greeting_teaser,
        "extensions": _extensions,
        "after-starttls-plain": _after_starttls_plain,
        "starttls-injection-vulnerable": _injection,
        "tls-handshake": _tls_handshake,
        "users": _users,
        "auth-mechanisms": _auth_mechanisms,
        "auth-before-tls": _auth_before_tls,
        "on-auth-fail": _on_auth_fail,
        "max-connections": _max_connections,
        "accept": _accept,
        "on-bytes": _on_bytes,
    }

    def finish(self, certs_dir):
        """Defaults that depend on other keys; the TLS context."""
        if self.greeting is None:
            self.greeting = [("lines", [f"220 {self.hostname} ESMTP smtpcheck-test"])]
        if self.mode == "clear" or self.accept != "yes":
            return
        pem = os.path.join(certs_dir, self.cert + ".pem")
        key = os.path.join(certs_dir, self.cert + ".key")
        for path in (pem, key):
            if not os.path.isfile(path):
                raise ScenarioError(f"[server {self.label}] cert: {path} does not exist "
                                    "(run tests/certs/make-certs)")
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        try:
            ctx.load_cert_chain(pem, key)
            if self.tls_versions:
                low, high = self.tls_versions
                if low < ssl.TLSVersion.TLSv1_2:
                    # OpenSSL 3 refuses TLS < 1.2 above security level 0.
                    ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
                ctx.minimum_version = low
                ctx.maximum_version = high
            if self.ciphers:
                ctx.set_ciphers(self.ciphers)
        except (ssl.SSLError, ValueError) as exc:
            raise ScenarioError(f"[server {self.label}]: TLS set-up failed: {exc}") from None
        ctx.sni_callback = _remember_sni
        self.ssl_context = ctx


def _remember_sni(ssl_object, server_name, _ctx):
    # The SSLObject is what the session sees after the handshake.
    ssl_object.smtpcheck_sni = server_name


def new_config_parser():
    """The parser every .scn reader uses: `=` only, keys case-sensitive."""
    cp = configparser.ConfigParser(interpolation=None, delimiters=("=",),
                                   empty_lines_in_values=False,
                                   default_section="\x00no-default-section")
    cp.optionxform = str
    return cp


def load_scenario(path, certs_dir):
    cp = new_config_parser()
    try:
        with open(path, encoding="utf-8") as f:
            cp.read_file(f)
    except (OSError, UnicodeDecodeError, configparser.Error) as exc:
        raise ScenarioError(str(exc)) from None
    shared = {}
    sections = []
    for name in cp.sections():
        kind, _, label = name.partition(" ")
        label = label.strip()
        if (kind == "test" and not label) or (kind == "file" and label):
            continue                        # the runner's sections
        if kind != "server" or not label:
            raise ScenarioError(f"unknown section [{name}] (expected [test], "
                                "[file NAME], [server LABEL] or [server *])")
        if label == "*":
            shared = dict(cp[name])
            continue
        if not LABEL_RE.match(label):
            raise ScenarioError(f"[server {label}]: a label may hold only "
                                "letters, digits, '.', '_' and '-'")
        sections.append((label, dict(cp[name])))
    if not sections:
        raise ScenarioError("no [server LABEL] section")
    configs = []
    for label, keys in sections:
        cfg = ServerConfig(label)
        for key, value in {**shared, **keys}.items():
            cfg.set(key, value)
        cfg.finish(certs_dir)
        configs.append(cfg)
    return configs


# --------------------------------------------------------------------------
# Event log

class EventLog:
    def __init__(self, path):
        self.fd = None
        if path:
            self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def write(self, cid, label, event):
        if self.fd is not None:
            line = f"{cid} {label} {event}\n".encode("utf-8", "backslashreplace")
            os.write(self.fd, line)


class Listener:
    """Per [server LABEL]: its configuration and its live connections."""

    def __init__(self, cfg, log, ids):
        self.cfg = cfg
        self.log = log
        self.ids = ids
        self.live = set()
        self.admitted = 0                   # sessions counted by max-connections


# --------------------------------------------------------------------------
# SASL, server side

class AuthAbort(Exception):
    """The client answered a challenge with '*'."""


class AuthSyntax(Exception):
    """A SASL message that does not decode."""


def b64(data):
    return base64.b64encode(data).decode("ascii")


def unb64(text):
    try:
        return base64.b64decode(text, validate=True)
    except (ValueError, TypeError):
        raise AuthSyntax() from None


def scram_unescape_name(name):
    return name.replace("=2C", ",").replace("=3D", "=")


class Sasl:
    """One AUTH exchange.  `ask(challenge_bytes)` sends a 334 and returns the
    client's decoded answer; each mechanism returns (user, ok)."""

    def __init__(self, users, hostname, ask):
        self.users = users
        self.hostname = hostname
        self.ask = ask

    def password_ok(self, user, password):
        expected = self.users.get(user)
        return expected is not None and hmac.compare_digest(
            expected.encode("utf-8"), password.encode("utf-8", "surrogateescape"))

    async def plain(self, initial):
        data = initial if initial is not None else await self.ask(b"")
        parts = data.split(b"\0")
        if len(parts) != 3:
            raise AuthSyntax()
        authzid, user, password = (p.decode("utf-8", "surrogateescape") for p in parts)
        return user, self.password_ok(user, password) and authzid in ("", user)

    async def login(self, initial):
        user = initial if initial is not None else await self.ask(b"Username:")
        password = await self.ask(b"Password:")
        user = user.decode("utf-8", "surrogateescape")
        return user, self.password_ok(user, password.decode("utf-8", "surrogateescape"))

    async def cram_md5(self, initial):
        if initial is not None:
            raise AuthSyntax()
        challenge = f"<{secrets.randbelow(10**10)}.{int(time.time())}@{self.hostname}>"
        answer = await self.ask(challenge.encode("ascii"))
        user, _, digest = answer.decode("utf-8", "surrogateescape").rpartition(" ")
        password = self.users.get(user)
        if password is None:
            return user, False
        expected = hmac.new(password.encode("utf-8"), challenge.encode("ascii"),
                            hashlib.md5).hexdigest()
        return user, hmac.compare_digest(expected, digest.lower())

    async def scram(self, initial, hash_name):
        """RFC 5802 without channel binding (we never advertise -PLUS)."""
        digest = getattr(hashlib, hash_name)
        first = initial if initial is not None else await self.ask(b"")
        first = first.decode("utf-8", "surrogateescape")
        m = re.match(r"^([ny]),(a=[^,]*)?,(n=([^,]*),r=([^,]+)(,.*)?)$", first)
        if not m or (m.group(6) or "").startswith(",m="):
            raise AuthSyntax()
        gs2_header = first[:len(first) - len(m.group(3))]
        client_first_bare = m.group(3)
        user = scram_unescape_name(m.group(4))
        nonce = m.group(5) + b64(secrets.token_bytes(18))
        password = self.users.get(user)
        # An unknown user still gets a plausible exchange, then fails.
        salt = secrets.token_bytes(16)
        server_first = f"r={nonce},s={b64(salt)},i={SCRAM_ITERATIONS}"
        final = (await self.ask(server_first.encode("ascii"))).decode("utf-8", "surrogateescape")
        m = re.match(r"^c=([^,]*),r=([^,]*)(,.*)?,p=([^,]+)$", final)
        if not m:
            raise AuthSyntax()
        if m.group(1) != b64(gs2_header.encode("utf-8")) or m.group(2) != nonce:
            return user, False
        without_proof = final[:final.rindex(",p=")]
        try:
            proof = base64.b64decode(m.group(4), validate=True)
        except ValueError:
            raise AuthSyntax() from None
        if password is None:
            return user, False
        salted = hashlib.pbkdf2_hmac(hash_name, password.encode("utf-8"), salt,
                                     SCRAM_ITERATIONS)
        auth_message = ",".join((client_first_bare, server_first, without_proof)).encode(
            "utf-8", "surrogateescape")
        client_key = hmac.new(salted, b"Client Key", digest).digest()
        stored_key = digest(client_key).digest()
        client_signature = hmac.new(stored_key, auth_message, digest).digest()
        if len(proof) != len(client_signature):
            return user, False
        recovered = bytes(a ^ b for a, b in zip(proof, client_signature))
        if not hmac.compare_digest(digest(recovered).digest(), stored_key):
            return user, False
        server_key = hmac.new(salted, b"Server Key", digest).digest()
        server_signature = hmac.new(server_key, auth_message, digest).digest()
        # RFC 4954: the server-final message travels in a 334; the client
        # answers with an empty line, then gets the 235.
        await self.ask(b"v=" + b64(server_signature).encode("ascii"))
        return user, True

    async def run(self, mechanism, initial):
        if mechanism == "PLAIN":
            return await self.plain(initial)
        if mechanism == "LOGIN":
            return await self.login(initial)
        if mechanism == "CRAM-MD5":
            return await self.cram_md5(initial)
        if mechanism == "SCRAM-SHA-1":
            return await self.scram(initial, "sha1")
        return await self.scram(initial, "sha256")


# --------------------------------------------------------------------------
# One client connection

class PeerGone(Exception):
    """End of input while a session step needed a line."""


class Connection(asyncio.Protocol):
    def __init__(self, listener):
        self.listener = listener
        self.cfg = listener.cfg
        self.cid = next(listener.ids)
        self.transport = None
        self.buf = bytearray()              # bytes after the last complete line
        self.lines = collections.deque()    # complete lines, LF included
        self.raw_mode = False               # reading a ClientHello by hand
        self.eof = False
        self.wakeup = asyncio.Event()
        self.gone = asyncio.Event()         # the connection is closed
        self.greeted = False
        self.tls = False
        self.user = None                    # set by a successful AUTH
        self.task = None
        self.drip_task = None
        self.admitted = False

    # -- asyncio.Protocol ------------------------------------------------

    def connection_made(self, transport):
        self.transport = transport
        self.listener.live.add(self)
        sock = transport.get_extra_info("socket")
        if sock is not None:
            # Without it a reply written right after a TLS handshake waits for
            # the client's delayed ACK: a flat +40 ms that would be blamed on
            # the program under test.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        peer = transport.get_extra_info("peername")
        if peer and ":" in peer[0]:
            where = f"[{peer[0]}]:{peer[1]}"
        else:
            where = f"{peer[0]}:{peer[1]}" if peer else "?"
        self.log(f"CONNECT {where}")
        self.task = asyncio.get_running_loop().create_task(self.session())

    def data_received(self, data):
        if not self.greeted and not self.raw_mode:
            self.log(f"PREGREET {escape(data[:LOG_SNIPPET])}")
        self.buf += data
        if not self.raw_mode:
            self._split_lines()
        self.wakeup.set()

    def eof_received(self):
        return False                        # close our side too

    def connection_lost(self, exc):
        if not self.eof:
            self.eof = True
            if exc is not None:
                self.log(f"EOF {type(exc).__name__}: {exc}")
            else:
                self.log("EOF")
        self.listener.live.discard(self)
        self.wakeup.set()
        self.gone.set()

    # -- plumbing ----------------------------------------------------------

    def log(self, event):
        self.listener.log.write(self.cid, self.cfg.label, event)

    def _split_lines(self):
        while True:
            i = self.buf.find(b"\n")
            if i < 0:
                break
            self.lines.append(bytes(self.buf[:i + 1]))
            del self.buf[:i + 1]
        if len(self.buf) > MAX_LINE:
            self.lines.append(bytes(self.buf))
            self.buf.clear()

    async def readline(self):
        """Next complete line (bytes, LF included); a trailing partial line at
        end of input; None at end of input."""
        while True:
            if self.lines:
                return self.lines.popleft()
            if self.eof:
                if self.buf:
                    line = bytes(self.buf)
                    self.buf.clear()
                    return line
                return None
            self.wakeup.clear()
            await self.wakeup.wait()

    async def pause(self, seconds):
        """Sleep, but wake up when the client goes away; False if it did."""
        try:
            await asyncio.wait_for(self.gone.wait(), seconds)
        except asyncio.TimeoutError:
            pass
        return not self.gone.is_set()

    def writable(self):
        return self.transport is not None and not self.transport.is_closing()

    def send(self, data, shown):
        """Write data in one piece; `shown` is what the log records."""
        for item in shown:
            self.log(item)
        if self.writable():
            self.transport.write(data)

    def send_lines(self, lines, tail=b""):
        data = b"".join(line.encode("utf-8") + b"\r\n" for line in lines) + tail
        self.send(data, [f"S: {escape(line.encode('utf-8'))}" for line in lines]
                  + self.raw_shown(tail))

    @staticmethod
    def raw_shown(data):
        pieces = data.splitlines(keepends=True)
        return [f"S: {escape(line_end_stripped(p)[:LOG_SNIPPET])}" for p in pieces]

    def close(self):
        if self.transport is not None:
            self.transport.close()
        self.eof = True

    def shutdown(self):
        """The server is stopping: drop the connection."""
        if not self.eof:
            self.log("SHUTDOWN")
        self.abort()

    def abort(self):
        if self.transport is not None:
            self.transport.abort()
        self.eof = True

    def reset(self):
        """Abort with a TCP RST (SO_LINGER with a zero timeout)."""
        sock = self.transport.get_extra_info("socket") if self.transport else None
        if sock is not None:
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            except OSError:
                pass
        self.abort()

    # -- scripts -----------------------------------------------------------

    async def perform(self, steps, tail=b""):
        """Play a reply script.  `tail` (clear-text bytes injected after a
        STARTTLS 2xx) goes into the same write as the last reply, when that
        reply is a 2xx.  Returns (outcome, code of the last reply line)."""
        last_write = max((i for i, s in enumerate(steps) if s[0] in ("lines", "raw")),
                         default=-1)
        code = ""
        for i, step in enumerate(steps):
            kind = step[0]
            if kind == "lines":
                code = reply_code(step[1][-1])
                extra = tail if i == last_write and code.startswith("2") else b""
                self.send_lines(step[1], extra)
            elif kind == "raw":
                data = step[1]
                pieces = data.splitlines()
                code = reply_code(pieces[-1].decode("latin-1")) if pieces else ""
                if i == last_write and code.startswith("2"):
                    data += tail
                self.send(data, self.raw_shown(data))
            elif kind == "delay":
                if not await self.pause(step[1]):
                    return CLOSED, code
            elif kind == "close":
                self.close()
                return CLOSED, code
            elif kind == "reset":
                self.reset()
                return CLOSED, code
            elif kind == "abort":
                self.abort()
                return CLOSED, code
            elif kind == "silent":
                return SILENT, code
            elif kind == "drip":
                self.drip_task = asyncio.get_running_loop().create_task(
                    self.drip(step[1], step[2]))
                return SILENT, code
            elif kind == "trickle":
                code = reply_code(step[2].decode("latin-1"))
                await self.trickle(step[1], step[2])
            elif kind == "big":
                self.send(b"A" * step[1], [f"BIG {step[1]}"])
        return CONTINUE, code

    async def drip(self, seconds, line):
        while self.writable():
            self.send(line, [f"S: {escape(line_end_stripped(line))}"])
            await self.pause(seconds)

    async def trickle(self, rate, data):
        chunk = max(1, rate // 20)
        self.send(b"", self.raw_shown(data))
        for i in range(0, len(data), chunk):
            if not self.writable():
                return
            self.transport.write(data[i:i + chunk])
            await self.pause(chunk / rate)

    # -- the session -------------------------------------------------------

    async def session(self):
        try:
            await self.converse()
        except PeerGone:
            pass
        except asyncio.CancelledError:
            raise
        except Exception as exc:            # a server bug: keep serving others
            self.log(f"ERROR {type(exc).__name__}: {exc}")
        finally:
            if self.drip_task is not None:
                self.drip_task.cancel()
            if self.transport is not None and not self.transport.is_closing():
                self.transport.close()
            self.listener.live.discard(self)
            if self.admitted:
                self.listener.admitted -= 1
            self.log("CLOSE")

    async def converse(self):
        cfg = self.cfg
        if cfg.mode == "tls" and not await self.start_tls():
            return
        if cfg.max_connections is not None and self.listener.admitted >= cfg.max_connections:
            self.log(f"TOO-MANY {self.listener.admitted}")
            self.send_lines(["421 4.7.0 Too many connections"])
            self.close()
            return
        self.admitted = True
        self.listener.admitted += 1
        outcome = CONTINUE
        if cfg.greeting_teaser:
            outcome, _ = await self.perform(cfg.greeting_teaser)
        if outcome == CONTINUE:
            if cfg.greeting_delay and not await self.pause(cfg.greeting_delay):
                return
            outcome, _ = await self.perform(cfg.greeting)
            self.greeted = outcome == CONTINUE
        while outcome == CONTINUE:
            line = await self.readline()
            if line is None:
                return
            outcome = await self.command(line)
        if outcome == SILENT:
            await self.listen_only()

    async def listen_only(self):
        """Keep the connection open, log what arrives, never answer (but
        play `on-bytes` once, when the first bytes come)."""
        if self.cfg.on_bytes is not None:
            while not (self.lines or self.buf):
                if self.eof:
                    return
                self.wakeup.clear()
                await self.wakeup.wait()
            outcome, _ = await self.perform(self.cfg.on_bytes)
            if outcome == CLOSED:
                return
        while True:
            line = await self.readline()
            if line is None:
                return
            self.log(f"C: {escape(line_end_stripped(line)[:LOG_SNIPPET])}")

    def lookup(self, verb):
        """The scenario's script for this verb in the current state, or None."""
        tiers = (["on-auth "] if self.user is not None else []) + \
                (["on-tls "] if self.tls else []) + ["on "]
        for name in [verb, "*"] if verb else []:
            for tier in tiers:
                script = self.cfg.replies.get(tier + name)
                if script is not None:
                    return script
        return None

    async def command(self, line):
        text = line_end_stripped(line)
        words = text.split(None, 2)
        verb = words[0].decode("latin-1").upper() if words else ""
        if verb == "AUTH" and len(words) > 2:
            shown = b" ".join(words[:2]) + b" <redacted-by-server>"
        else:
            shown = text
        self.log(f"C: {escape(shown[:LOG_SNIPPET])}")
        if self.lines or self.buf:
            verbs = " ".join(l.split(None, 1)[0].decode("latin-1").upper()
                             for l in self.lines if l.strip())
            size = sum(map(len, self.lines)) + len(self.buf)
            self.log(f"PIPELINED {size} bytes: {escape(verbs.encode('latin-1'))}")

        script = self.lookup(verb)
        if verb == "STARTTLS":
            return await self.starttls(script)
        if script is None and verb == "AUTH":
            return await self.auth(words)
        if script is None:
            script = self.default_reply(verb)
        outcome, _ = await self.perform(script)
        if verb == "QUIT" and outcome == CONTINUE:
            self.close()
            return CLOSED
        return outcome

    def default_reply(self, verb):
        cfg = self.cfg
        if verb == "EHLO":
            lines = [cfg.hostname]
            if cfg.mode == "starttls" and not self.tls:
                lines.append("STARTTLS")
            if cfg.auth_mechanisms and (self.tls or cfg.auth_before_tls):
                lines.append("AUTH " + " ".join(cfg.auth_mechanisms))
            lines += cfg.extensions
            return [("lines", [f"250-{l}" for l in lines[:-1]] + [f"250 {lines[-1]}"])]
        simple = {
            "HELO": f"250 {cfg.hostname}",
            "MAIL": "250 2.0.0 Ok",
            "RCPT": "250 2.0.0 Ok",
            "RSET": "250 2.0.0 Ok",
            "NOOP": "250 2.0.0 Ok",
            "QUIT": "221 2.0.0 Bye",
            "DATA": "554 5.5.1 test server refuses DATA",
            "BDAT": "554 5.5.1 test server refuses DATA",
            "": "500 5.5.2 Error: bad syntax",
        }
        return [("lines", [simple.get(verb, "502 5.5.2 Error: command not recognized")])]

    # -- STARTTLS and TLS ----------------------------------------------------

    async def starttls(self, script):
        cfg = self.cfg
        can_upgrade = cfg.mode == "starttls" and not self.tls
        if script is None:
            if can_upgrade:
                reply = "220 2.0.0 Ready to start TLS"
            elif self.tls:
                reply = "503 5.5.1 Error: TLS already active"
            else:
                reply = "502 5.5.1 not supported"
            script = [("lines", [reply])]
        tail = cfg.after_starttls_plain if can_upgrade else b""
        outcome, code = await self.perform(script, tail)
        if outcome != CONTINUE or not can_upgrade or not code.startswith("2"):
            return outcome
        # No await between the reply and start_tls(): nothing can slip in.
        pending = b"".join(self.lines) + bytes(self.buf)
        if pending and cfg.injection_vulnerable:
            self.log(f"INJECTED {escape(pending[:LOG_SNIPPET])}")
        elif pending:
            self.log(f"DISCARD {escape(pending[:LOG_SNIPPET])}")
            self.lines.clear()
            self.buf.clear()
        return CONTINUE if await self.start_tls() else CLOSED

    async def start_tls(self):
        """Upgrade the connection (or play the scripted failure)."""
        kind, text = self.cfg.tls_handshake
        if kind != "ok":
            return await self.scripted_handshake(kind, text)
        loop = asyncio.get_running_loop()
        try:
            transport = await loop.start_tls(self.transport, self, self.cfg.ssl_context,
                                             server_side=True, ssl_handshake_timeout=30)
        except (OSError, ConnectionError, asyncio.TimeoutError, ssl.SSLError) as exc:
            reason = str(exc) or type(exc).__name__
            self.log(f"TLS-FAIL {escape(reason.encode('utf-8'))}")
            self.eof = True
            return False
        if transport is None:
            self.log("TLS-FAIL connection closed during the handshake")
            self.eof = True
            return False
        self.transport = transport
        self.tls = True
        ssl_object = transport.get_extra_info("ssl_object")
        sni = getattr(ssl_object, "smtpcheck_sni", None)
        if sni:
            self.log(f"SNI {escape(sni.encode('utf-8'))}")
        cipher = ssl_object.cipher()
        self.log(f"TLS {ssl_object.version()} {cipher[0] if cipher else '?'}")
        return True

    async def scripted_handshake(self, kind, text):
        self.raw_mode = True
        hello = await self.read_client_hello()
        if hello is None:
            self.log("TLS-FAIL client closed before its ClientHello")
            return False
        what = f"{len(hello)} bytes of ClientHello" if hello[:1] == b"\x16" else \
            f"non-TLS bytes {escape(hello[:64])}"
        if kind == "reset":
            self.log(f"TLS-FAIL scripted: reset after {what}")
            self.reset()
            return False
        if kind == "plain":
            self.log(f"TLS-FAIL scripted: clear text after {what}")
            self.send(text, self.raw_shown(text))
        else:
            self.log(f"TLS-FAIL scripted: silence after {what}")
        while not self.eof:                 # swallow whatever comes
            self.buf.clear()
            self.wakeup.clear()
            await self.wakeup.wait()
        return False

    async def read_client_hello(self):
        """The first TLS record (or whatever non-TLS bytes come first)."""
        while True:
            data = self.buf
            if len(data) >= 5 and data[0] == 0x16:
                need = 5 + int.from_bytes(data[3:5], "big")
                if len(data) >= need:
                    return bytes(data[:need])
            elif data and data[0] != 0x16:
                return bytes(data)
            if self.eof:
                return bytes(data) if data else None
            self.wakeup.clear()
            await self.wakeup.wait()

    # -- AUTH ----------------------------------------------------------------

    async def ask(self, challenge):
        self.send_lines([f"334 {b64(challenge)}" if challenge else "334 "])
        line = await self.readline()
        if line is None:
            raise PeerGone()
        answer = line_end_stripped(line).rstrip(b"\r\n").strip()
        if answer == b"*":
            self.log("C: *")
            raise AuthAbort()
        self.log("C: <redacted-by-server>")
        return unb64(answer)

    async def auth(self, words):
        cfg = self.cfg
        mechanism = words[1].decode("latin-1").upper() if len(words) > 1 else ""
        offered_now = cfg.auth_mechanisms if (self.tls or cfg.auth_before_tls) else []
        if self.user is not None:
            reply = "503 5.5.1 Error: already authenticated"
        elif not cfg.auth_mechanisms:
            reply = "503 5.5.1 Error: authentication not enabled"
        elif not mechanism:
            reply = "501 5.5.4 Syntax: AUTH mechanism"
        elif mechanism not in cfg.auth_mechanisms:
            reply = "504 5.5.4 Unrecognized authentication type"
        elif mechanism not in offered_now:
            reply = "538 5.7.11 Encryption required for requested authentication mechanism"
        elif mechanism not in IMPLEMENTED_SASL:
            reply = "504 5.5.4 Mechanism not implemented by the test server"
        else:
            reply = None
        if reply:
            self.send_lines([reply])
            return CONTINUE
        sasl = Sasl(cfg.users, cfg.hostname, self.ask)
        try:
            initial = None                  # no initial response
            if len(words) > 2:              # "=" is an empty one (RFC 4954)
                arg = words[2].strip()
                initial = b"" if arg == b"=" else unb64(arg)
            user, ok = await sasl.run(mechanism, initial)
        except AuthAbort:
            self.log("AUTH-ABORT")
            self.send_lines(["501 5.7.0 Authentication aborted"])
            return CONTINUE
        except AuthSyntax:
            self.log("AUTH-FAIL ?")
            self.send_lines(["501 5.5.2 Cannot decode response"])
            return CONTINUE
        shown = escape(user.encode("utf-8", "surrogateescape")) or "?"
        if ok:
            self.user = user
            self.log(f"AUTH-OK {shown}")
            self.send_lines(["235 2.7.0 Authentication successful"])
            return CONTINUE
        self.log(f"AUTH-FAIL {shown}")
        outcome, _ = await self.perform(cfg.on_auth_fail)
        return outcome


# --------------------------------------------------------------------------
# Start-up, serving, shutdown

def raise_fd_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError):
            pass


def bind_all(configs, addrs, real_ports):
    """[(cfg, [listening sockets], port)]; raises ScenarioError.
    With several addresses every section listens on the same port number on
    each of them (an ephemeral port is retried until all addresses have it)."""
    bound = []
    for cfg in configs:
        if real_ports:
            if not cfg.label.isdigit() or not 0 < int(cfg.label) < 65536:
                raise ScenarioError(f"--real-ports: [server {cfg.label}] is not a port number")
        for attempt in range(20):
            port = int(cfg.label) if real_ports else 0
            socks = []
            try:
                for addr in addrs:
                    family = socket.AF_INET6 if ":" in addr else socket.AF_INET
                    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
                    socks.append(sock)
                    if family == socket.AF_INET6:
                        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                    sock.bind((addr, port))
                    port = sock.getsockname()[1]
                break
            except OSError as exc:
                for sock in socks:
                    sock.close()
                retry = (exc.errno == errno.EADDRINUSE and not real_ports
                         and len(socks) > 1 and attempt < 19)
                if not retry:
                    raise ScenarioError(f"[server {cfg.label}]: cannot bind "
                                        f"{','.join(addrs)} port {port}: "
                                        f"{exc.strerror or exc}") from None
        if cfg.accept == "yes":
            for sock in socks:
                sock.listen(BACKLOG)
                sock.setblocking(False)
        elif cfg.accept == "stall":
            # Listening, but the TCP handshake of a client never completes.
            for sock in socks:
                stall_listener(sock, cfg.label)
            socks = []
        else:
            # A port nobody listens on: connections are refused.
            for sock in socks:
                sock.close()
            socks = []
        bound.append((cfg, socks, port))
    return bound


# Sockets of `accept = stall` ports: the listeners and the server's own
# connections that fill their accept queues.  Kept open for the whole run.
_stalled_sockets = []


def accept_queue(sock):
    """(queued, limit) of a listening socket, from Linux's TCP_INFO
    (tcpi_unacked, tcpi_sacked); None where that is not available."""
    try:
        info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
        return struct.unpack_from("=8B6I", info)[12:14]
    except (AttributeError, OSError, struct.error):
        return None


def stall_listener(sock, label):
    """accept = stall: listen with a backlog of 0, fill the accept queue with
    connections of our own and never accept, so the kernel drops every further
    SYN: a client's connect() hangs, as behind a firewall that drops packets.
    Linux takes a backlog of 0 as room for one queued connection; the queue is
    full when its length exceeds the limit.  Raises ScenarioError when the
    queue cannot be filled."""
    sock.listen(0)
    _stalled_sockets.append(sock)
    addr = sock.getsockname()
    for _ in range(8):
        state = accept_queue(sock)
        if state is not None and state[0] > state[1]:
            return
        filler = socket.socket(sock.family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        _stalled_sockets.append(filler)
        filler.settimeout(0.3)
        try:
            filler.connect(addr[:2] if sock.family == socket.AF_INET else addr)
        except (socket.timeout, TimeoutError):
            return                          # its SYN was dropped: full
        except OSError as exc:
            raise ScenarioError(f"[server {label}] accept = stall: cannot connect "
                                f"to the port itself: {exc}") from None
    state = accept_queue(sock)
    if state is None or state[0] <= state[1]:
        raise ScenarioError(f"[server {label}] accept = stall: the accept queue "
                            "does not fill up on this system")


def watch_stdin_eof(callback):
    """Call callback (from a helper thread) once stdin reaches end-of-file.
    A thread, not the event loop: stdin may be a file, which epoll refuses."""
    def watch():
        try:
            while os.read(0, 4096):
                pass
        except OSError:
            pass
        callback()
    threading.Thread(target=watch, daemon=True).start()


async def serve_async(bound, log, worker, workers, watch_stdin, verbose):
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if watch_stdin:
        watch_stdin_eof(lambda: loop.call_soon_threadsafe(stop.set))

    def quiet_handler(_loop, context):
        # Clients that vanish mid-handshake are the point of many scenarios.
        if verbose:
            print(f"smtpserver: {context.get('message')}: {context.get('exception')}",
                  file=sys.stderr)
    loop.set_exception_handler(quiet_handler)

    ids = itertools.count(worker + 1, workers)
    listeners, servers = [], []
    for cfg, socks, _port in bound:
        if not socks:
            continue
        listener = Listener(cfg, log, ids)
        listeners.append(listener)
        for sock in socks:
            servers.append(await loop.create_server(lambda l=listener: Connection(l),
                                                    sock=sock, backlog=BACKLOG))
    await stop.wait()
    for server in servers:
        server.close()
    for listener in listeners:
        for conn in list(listener.live):
            conn.shutdown()


def serve(bound, log, worker, workers, watch_stdin, verbose):
    asyncio.run(serve_async(bound, log, worker, workers, watch_stdin, verbose))
    return 0


def serve_forked(bound, args):
    """--workers N: N processes accept on the same sockets (for benchmarks)."""
    children = []
    for worker in range(args.workers):
        pid = os.fork()
        if pid == 0:
            status = 1
            try:
                log = EventLog(args.log)
                status = serve(bound, log, worker, args.workers, False, args.verbose)
            finally:
                os._exit(status)
        children.append(pid)
    for _cfg, socks, _port in bound:
        for sock in socks:
            sock.close()

    def stop(*_):
        for pid in children:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if args.watch_stdin:
        watch_stdin_eof(stop)
    for pid in children:
        while True:
            try:
                os.waitpid(pid, 0)
                break
            except ChildProcessError:
                break
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(
        prog="smtpserver.py",
        description="Scripted SMTP server for smtpcheck's scenario tests.")
    ap.add_argument("--scenario", required=True, metavar="FILE",
                    help="scenario file whose [server LABEL] sections are served")
    ap.add_argument("--certs", required=True, metavar="DIR",
                    help="directory made by tests/certs/make-certs")
    ap.add_argument("--addr", default="127.0.0.1",
                    help="loopback address(es) to listen on, comma-separated "
                         "(default 127.0.0.1; any of 127.0.0.0/8 or ::1); with "
                         "several, each section has the same port on all")
    ap.add_argument("--real-ports", action="store_true",
                    help="listen on port LABEL instead of an ephemeral port")
    ap.add_argument("--log", metavar="FILE", help="append the event log to FILE")
    ap.add_argument("--workers", type=int, default=1, metavar="N",
                    help="serve from N processes (load tests; max-connections "
                         "then counts per process)")
    ap.add_argument("--watch-stdin", action="store_true",
                    help="exit when stdin reaches end-of-file")
    ap.add_argument("--verbose", action="store_true",
                    help="report asyncio-level connection errors on stderr")
    args = ap.parse_args(argv)
    if args.workers < 1:
        ap.error("--workers must be at least 1")
    addrs = [a for a in args.addr.split(",") if a]
    for addr in addrs:
        try:
            if not ipaddress.ip_address(addr).is_loopback:
                ap.error(f"--addr {addr}: test servers listen on loopback only")
        except ValueError:
            ap.error(f"--addr {addr}: not an IP address")
    try:
        configs = load_scenario(args.scenario, args.certs)
        raise_fd_limit()
        bound = bind_all(configs, addrs, args.real_ports)
    except ScenarioError as exc:
        print(f"smtpserver: {args.scenario}: {exc}", file=sys.stderr)
        return 2
    print("READY " + " ".join(f"{cfg.label}={port}" for cfg, _s, port in bound), flush=True)
    if args.workers > 1:
        return serve_forked(bound, args)
    return serve(bound, EventLog(args.log), 0, 1, args.watch_stdin, args.verbose)


if __name__ == "__main__":
    sys.exit(main())
