"""dnslab.py - a real DNS server (dnsmasq, from Debian) inside a scenario's
network namespace, serving the scenario's `dns` records on 127.0.0.1:53,
where the namespace's resolv.conf points.

Record lines (one per line, placeholders already expanded by the runner):

    a NAME ADDR[,ADDR...]        A/AAAA records, and the PTR of each address
    srv NAME TARGET PORT [PRIO [WEIGHT]]
    mx NAME TARGET [PREF]
    tlsa NAME USAGE SELECTOR MTYPE HEX
    ptr ADDR NAME                a PTR record alone (no forward record)
    cname NAME TARGET
    servfail ZONE                every name in ZONE answers SERVFAIL
    refused ZONE                 every name in ZONE answers REFUSED
    silent ZONE                  questions about ZONE are never answered
    ttl SECONDS                  TTL of the records (default 300)

Every name under .test, in-addr.arpa and ip6.arpa that has no record is
NXDOMAIN (dnsmasq --local), the way an authoritative zone answers.

TLSA data may be a placeholder computed from the test certificates:
{spki-sha256:NAME} (selector 1, matching type 1), {cert-sha256:NAME}
(0 1) and {spki-sha512:NAME} (1 2), NAME one of the certificates of
tests/certs/make-certs (good, wrongname, ...).

How the failures are made, with dnsmasq only:
- SERVFAIL: the zone is forwarded to a second dnsmasq that validates
  DNSSEC with a trust anchor nothing can satisfy; its upstream (a third,
  plain dnsmasq) answers unsigned, so validation fails and it says
  SERVFAIL, as a resolver does for a zone with broken DNSSEC.
- REFUSED: the zone is forwarded to "no server" (--server=/ZONE/#).
- silent: forwarded to a loopback address where nothing listens.
"""

import hashlib
import ipaddress
import os
import re
import signal
import subprocess
import time

# A DS for the root that matches no key: every validation fails.
BOGUS_ANCHOR = ".,12345,8,2," + "0431db92e18ca3154944248b2cf2fb7b7c6faa62579055849269495c1fd9e3d2"

VALIDATOR_ADDR = "127.0.0.53"
UPSTREAM_ADDR = "127.0.0.54"
SILENT_ADDR = "127.0.0.55"


class DnsLabError(Exception):
    pass


def _digest(certs, name, what):
    pem = os.path.join(certs, f"{name}.pem")
    if not os.path.isfile(pem):
        raise DnsLabError(f"no certificate {name!r} in {certs}")
    der = subprocess.run(["openssl", "x509", "-in", pem, "-outform", "DER"],
                         capture_output=True, check=True).stdout
    if what.startswith("spki"):
        pub = subprocess.run(["openssl", "x509", "-in", pem, "-pubkey", "-noout"],
                             capture_output=True, check=True).stdout
        der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"],
                             input=pub, capture_output=True, check=True).stdout
    algo = hashlib.sha512 if what.endswith("512") else hashlib.sha256
    return algo(der).hexdigest()


def expand(text, certs):
    return re.sub(r"\{(spki-sha256|cert-sha256|spki-sha512):([\w.-]+)\}",
                  lambda m: _digest(certs, m.group(2), m.group(1)), text)


def _rdata_tlsa(fields):
    usage, selector, mtype, data = fields
    return "%02x%02x%02x%s" % (int(usage), int(selector), int(mtype), data.lower())


def dnsmasq_args(lines, certs):
    """-> (main dnsmasq arguments, needs the SERVFAIL helpers)"""
    ttl = 300
    args = []
    servfail = False
    for raw in lines:
        line = expand(raw, certs).split()
        if not line:
            continue
        kind, rest = line[0].lower(), line[1:]
        try:
            if kind == "ttl":
                ttl = int(rest[0])
            elif kind == "a":
                name, addrs = rest[0], rest[1].split(",")
                for a in addrs:
                    ipaddress.ip_address(a)
                args.append(f"--host-record={name},{','.join(addrs)}")
            elif kind == "srv":
                name, target, port = rest[0], rest[1], int(rest[2])
                prio = int(rest[3]) if len(rest) > 3 else 0
                weight = int(rest[4]) if len(rest) > 4 else 0
                args.append(f"--srv-host={name},{target},{port},{prio},{weight}")
            elif kind == "mx":
                pref = int(rest[2]) if len(rest) > 2 else 10
                args.append(f"--mx-host={rest[0]},{rest[1]},{pref}")
            elif kind == "tlsa":
                if len(rest) != 5:
                    raise DnsLabError(f"tlsa needs NAME USAGE SELECTOR MTYPE HEX: {raw!r}")
                args.append(f"--dns-rr={rest[0]},52,{_rdata_tlsa(rest[1:])}")
            elif kind == "ptr":
                rev = ipaddress.ip_address(rest[0]).reverse_pointer
                args.append(f"--ptr-record={rev},{rest[1]}")
            elif kind == "cname":
                args.append(f"--cname={rest[0]},{rest[1]}")
            elif kind == "servfail":
                servfail = True
                args.append(f"--server=/{rest[0]}/{VALIDATOR_ADDR}")
            elif kind == "refused":
                args.append(f"--server=/{rest[0]}/#")
            elif kind == "silent":
                args.append(f"--server=/{rest[0]}/{SILENT_ADDR}")
            else:
                raise DnsLabError(f"unknown dns record kind {kind!r} in {raw!r}")
        except (IndexError, ValueError) as exc:
            raise DnsLabError(f"bad dns line {raw!r}: {exc}") from None
    base = ["--local=/test/", "--local=/in-addr.arpa/", "--local=/ip6.arpa/",
            f"--local-ttl={ttl}"]
    return base + args, servfail


def _common(listen, pidfile):
    return ["dnsmasq", "--keep-in-foreground", "--no-resolv", "--no-hosts",
            "--conf-file=/dev/null", "--user=root", "--bind-interfaces",
            f"--listen-address={listen}", f"--pid-file={pidfile}"]


def _query(prefix, timeout=0.3):
    """True once the main server answers (from inside the namespace)."""
    code = ("import socket,struct,sys\n"
            "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);s.settimeout(%r)\n"
            "m=struct.pack('>HHHHHH',7,256,1,0,0,0)+b'\\x05ready\\x04test\\x00'"
            "+struct.pack('>HH',1,1)\n"
            "s.sendto(m,('127.0.0.1',53))\n"
            "try:\n d,_=s.recvfrom(512);sys.exit(0 if d[:2]==m[:2] else 1)\n"
            "except OSError:\n sys.exit(1)\n" % timeout)
    r = subprocess.run(prefix + ["python3", "-c", code], stdin=subprocess.DEVNULL,
                       capture_output=True)
    return r.returncode == 0


class DnsLab:
    def __init__(self, prefix, lines, certs, tmp):
        self.prefix = prefix
        self.tmp = tmp
        self.procs = []
        self.log = os.path.join(tmp, "dns.log")
        self.args, self.servfail = dnsmasq_args(lines, certs)

    def _spawn(self, argv, what):
        errf = open(os.path.join(self.tmp, f"dnsmasq-{what}.err"), "w", encoding="utf-8")
        proc = subprocess.Popen(self.prefix + argv, stdin=subprocess.DEVNULL,
                                stdout=errf, stderr=errf, start_new_session=True)
        errf.close()
        self.procs.append((proc, what))
        return proc

    def start(self):
        if self.servfail:
            self._spawn(_common(VALIDATOR_ADDR, os.path.join(self.tmp, "dnsv.pid")) +
                        ["--dnssec", f"--trust-anchor={BOGUS_ANCHOR}",
                         f"--server={UPSTREAM_ADDR}"], "validator")
            self._spawn(_common(UPSTREAM_ADDR, os.path.join(self.tmp, "dnsu.pid")) +
                        ["--local=/#/"], "upstream")
        self._spawn(_common("127.0.0.1", os.path.join(self.tmp, "dns.pid")) +
                    ["--log-queries", f"--log-facility={self.log}"] + self.args, "main")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            for proc, what in self.procs:
                if proc.poll() is not None:
                    err = ""
                    try:
                        with open(os.path.join(self.tmp, f"dnsmasq-{what}.err"),
                                  encoding="utf-8", errors="replace") as f:
                            err = f.read().strip()
                    except OSError:
                        pass
                    self.stop()
                    raise DnsLabError(f"dnsmasq ({what}) exited {proc.returncode}: {err}")
            if _query(self.prefix):
                return
            time.sleep(0.05)
        self.stop()
        raise DnsLabError("dnsmasq did not answer on 127.0.0.1:53 within 10 s")

    def queries(self):
        """The query log, for expectations about what was asked."""
        try:
            with open(self.log, encoding="utf-8", errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def stop(self):
        for proc, _ in self.procs:
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for proc, _ in self.procs:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait()
        self.procs = []
