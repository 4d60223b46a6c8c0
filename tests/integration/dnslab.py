"""dnslab.py - a real DNS server (dnsmasq, from Debian) inside a scenario's
network namespace, serving the scenario's `dns` records on 127.0.0.1:53,
where the namespace's resolv.conf points; for signed zones, a validating
resolver (unbound) behind it.

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
    signed ZONE                  the records under ZONE come from a zone
                                 signed at test time, through a validating
                                 resolver: its answers carry the AD bit
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

Signed zones (`signed ZONE`, with unbound and ldnsutils from Debian):
- Every record line whose name is ZONE or below goes into ZONE's zone file
  instead of dnsmasq's arguments. For `a`, the address records do; each
  PTR goes where its reverse name belongs, so it stays with dnsmasq
  (unsigned) unless a reverse zone is signed too. The apex gets an SOA and
  `NS localhost.`; names in ZONE without records are NXDOMAIN (NSEC).
  Several zones may be signed; one may not lie inside another.
- Per run, ldns-keygen makes an ECDSA P-256 key (algorithm 13; one key,
  with the SEP flag, signs everything) and ldns-signzone signs the zone
  with NSEC, inception an hour ago, expiry in 30 days (about 10 ms).
- One unbound on SIGNED_ADDR loads each signed zone as an auth-zone with
  for-upstream (it resolves from the zone as if from the zone's server,
  so its validator checks the data; a tampered record is SERVFAIL,
  "signature crypto failed") and the key's DS as trust anchor. A stub zone
  per signed zone punches a hole in its forward zone for ".", which sends
  everything else (a CNAME target outside ZONE, say) to the main dnsmasq:
  nothing leaves the namespace, and such answers are insecure, no AD.
- The main dnsmasq forwards ZONE to unbound (--server=/ZONE/) with
  --proxy-dnssec, without which it clears the AD bit of forwarded answers,
  and --cache-size=0, because an answer it serves from its cache has lost
  the AD bit. Both only when a zone is signed.
- unbound sets AD on signed answers, NXDOMAIN and NODATA included, when
  the question has the AD bit or DO (RFC 6840), as smtpcheck's have.
- start() asks for each ZONE's SOA through 127.0.0.1 and fails unless the
  answer is NOERROR with AD; unbound's log is unbound.err in the scenario's
  temporary directory.
- missing_tools(lines) says, before anything starts, why the lines cannot
  be served here (text for a SKIP); DnsLab() raises DnsLabMissing (a
  DnsLabError) with the same text.
"""

import hashlib
import ipaddress
import os
import re
import shutil
import signal
import subprocess
import time

# A DS for the root that matches no key: every validation fails.
BOGUS_ANCHOR = ".,12345,8,2," + "0431db92e18ca3154944248b2cf2fb7b7c6faa62579055849269495c1fd9e3d2"

VALIDATOR_ADDR = "127.0.0.53"
UPSTREAM_ADDR = "127.0.0.54"
SILENT_ADDR = "127.0.0.55"
SIGNED_ADDR = "127.0.0.56"

SBIN_PATH = ("/usr/local/sbin", "/usr/sbin", "/sbin")
SIGNED_TOOLS = (("unbound", "unbound"), ("ldns-keygen", "ldnsutils"),
                ("ldns-signzone", "ldnsutils"))


class DnsLabError(Exception):
    pass


class DnsLabMissing(DnsLabError):
    """A program the scenario's dns lines need is not installed (a SKIP)."""


def _which(name):
    path = os.pathsep.join([os.environ.get("PATH", "")] + list(SBIN_PATH))
    return shutil.which(name, path=path)


def missing_tools(lines):
    """Why the dns lines cannot be served here (text for a SKIP), or None."""
    if not any(l.split()[:1] and l.split()[0].lower() == "signed" for l in lines):
        return None
    pkgs = []
    for tool, pkg in SIGNED_TOOLS:
        if not _which(tool) and pkg not in pkgs:
            pkgs.append(pkg)
    if not pkgs:
        return None
    return (f"requires {' and '.join(pkgs)} for a signed zone "
            f"(scripts/install-deps check installs {'it' if len(pkgs) == 1 else 'them'})")


def _fqdn(name):
    return name.rstrip(".").lower() + "."


def _under(name, zone):
    name, zone = _fqdn(name), _fqdn(zone)
    return name == zone or name.endswith("." + zone)


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


def parse(lines, certs):
    """-> (main dnsmasq arguments, needs the SERVFAIL helpers,
    {zone: [zone file lines]} for the signed zones, TTL)"""
    ttl = 300
    args = []
    servfail = False
    zones = {}
    parsed = []
    for raw in lines:
        line = expand(raw, certs).split()
        if not line:
            continue
        kind, rest = line[0].lower(), line[1:]
        if kind == "signed":
            if len(rest) != 1 or not rest[0].strip("."):
                raise DnsLabError(f"signed needs one ZONE: {raw!r}")
            zone = _fqdn(rest[0])
            for other in zones:
                if _under(zone, other) or _under(other, zone):
                    raise DnsLabError(f"signed zones {zone} and {other} overlap")
            zones[zone] = []
        else:
            parsed.append((raw, kind, rest))

    def signed_zone(name):
        for zone in zones:
            if _under(name, zone):
                return zone
        return None

    def ptr(addr, name):
        rev = ipaddress.ip_address(addr).reverse_pointer
        zone = signed_zone(rev)
        if zone:
            zones[zone].append(f"{rev}. IN PTR {_fqdn(name)}")
        else:
            args.append(f"--ptr-record={rev},{name}")

    for raw, kind, rest in parsed:
        try:
            zone = signed_zone(rest[0]) if rest and kind in (
                "a", "srv", "mx", "tlsa", "cname") else None
            if kind == "ttl":
                ttl = int(rest[0])
            elif kind == "a":
                name, addrs = rest[0], rest[1].split(",")
                for a in addrs:
                    ipaddress.ip_address(a)
                if zone:
                    for a in addrs:
                        rtype = "AAAA" if ":" in a else "A"
                        zones[zone].append(f"{_fqdn(name)} IN {rtype} {a}")
                        ptr(a, name)
                else:
                    args.append(f"--host-record={name},{','.join(addrs)}")
            elif kind == "srv":
                name, target, port = rest[0], rest[1], int(rest[2])
                prio = int(rest[3]) if len(rest) > 3 else 0
                weight = int(rest[4]) if len(rest) > 4 else 0
                if zone:
                    zones[zone].append(f"{_fqdn(name)} IN SRV {prio} {weight} {port} "
                                       f"{_fqdn(target)}")
                else:
                    args.append(f"--srv-host={name},{target},{port},{prio},{weight}")
            elif kind == "mx":
                pref = int(rest[2]) if len(rest) > 2 else 10
                if zone:
                    zones[zone].append(f"{_fqdn(rest[0])} IN MX {pref} {_fqdn(rest[1])}")
                else:
                    args.append(f"--mx-host={rest[0]},{rest[1]},{pref}")
            elif kind == "tlsa":
                if len(rest) != 5:
                    raise DnsLabError(f"tlsa needs NAME USAGE SELECTOR MTYPE HEX: {raw!r}")
                rdata = _rdata_tlsa(rest[1:])
                if zone:
                    zones[zone].append(f"{_fqdn(rest[0])} IN TLSA {int(rest[1])} "
                                       f"{int(rest[2])} {int(rest[3])} {rest[4].lower()}")
                else:
                    args.append(f"--dns-rr={rest[0]},52,{rdata}")
            elif kind == "ptr":
                ptr(rest[0], rest[1])
            elif kind == "cname":
                if zone:
                    zones[zone].append(f"{_fqdn(rest[0])} IN CNAME {_fqdn(rest[1])}")
                else:
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
    if zones:
        # --proxy-dnssec: pass on the AD bit of unbound's answers (dnsmasq
        # clears it otherwise); no cache: a cached answer loses the AD bit.
        base += ["--proxy-dnssec", "--cache-size=0"]
        base += [f"--server=/{z.rstrip('.')}/{SIGNED_ADDR}" for z in zones]
    return base + args, servfail, zones, ttl


def dnsmasq_args(lines, certs):
    """-> (main dnsmasq arguments, needs the SERVFAIL helpers)"""
    args, servfail, _, _ = parse(lines, certs)
    return args, servfail


def sign_zone(zone, records, ttl, tmp):
    """Write ZONE's zone file, make a key and sign it in tmp.
    -> (signed zone file, file with the DS record for the trust anchor)"""
    label = zone.rstrip(".") or "root"
    base = os.path.join(tmp, f"zone-{label}")
    now = int(time.time())
    with open(base, "w", encoding="utf-8") as f:
        f.write(f"$ORIGIN {zone}\n$TTL {ttl}\n"
                f"@ IN SOA localhost. hostmaster.{zone} 1 3600 600 86400 {ttl}\n"
                f"@ IN NS localhost.\n")
        for rec in records:
            f.write(rec + "\n")
    keydir = os.path.join(tmp, f"keys-{label}")
    os.makedirs(keydir, exist_ok=True)
    r = subprocess.run([_which("ldns-keygen"), "-a", "ECDSAP256SHA256", "-k", zone],
                       cwd=keydir, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    if r.returncode != 0:
        raise DnsLabError(f"ldns-keygen for {zone} failed: {(r.stderr or r.stdout).strip()}")
    key = os.path.join(keydir, r.stdout.strip())
    r = subprocess.run([_which("ldns-signzone"), "-i", str(now - 3600),
                        "-e", str(now + 30 * 86400), "-f", base + ".signed", base, key],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True)
    if r.returncode != 0:
        raise DnsLabError(f"ldns-signzone {zone} failed: {(r.stderr or r.stdout).strip()}")
    return base + ".signed", key + ".ds"


def unbound_conf(zones, tmp):
    """unbound.conf text: SIGNED_ADDR, one auth-zone and trust anchor per
    signed zone, everything else forwarded to the main dnsmasq."""
    conf = ["server:",
            f"    interface: {SIGNED_ADDR}",
            "    port: 53",
            "    username: \"\"",
            "    chroot: \"\"",
            f"    directory: \"{tmp}\"",
            f"    pidfile: \"{os.path.join(tmp, 'unbound.pid')}\"",
            "    use-syslog: no",
            "    use-systemd: no",
            "    verbosity: 1",
            "    log-queries: yes",
            "    log-servfail: yes",
            "    val-log-level: 2",
            "    num-threads: 1",
            "    so-reuseport: no",
            "    do-ip6: no",
            "    do-not-query-localhost: no",
            "    trust-anchor-signaling: no",
            "    root-key-sentinel: no"]
    for zone, (_, ds) in zones.items():
        conf += [f"    trust-anchor-file: \"{ds}\"",
                 # overrides a built-in local zone (test., 127.in-addr.arpa.)
                 f"    local-zone: \"{zone}\" transparent"]
    for zone, (signed, _) in zones.items():
        conf += ["auth-zone:",
                 f"    name: \"{zone}\"",
                 f"    zonefile: \"{signed}\"",
                 "    for-upstream: yes",
                 "    for-downstream: no",
                 "    fallback-enabled: no"]
    for zone in zones:
        # The stub zone punches a hole in the forward zone for "." below,
        # so unbound answers ZONE from its auth-zone instead of asking
        # dnsmasq, which would ask unbound again: a loop, seen. The stub's
        # address (nothing listens there) is never asked: fallback-enabled
        # is no.
        conf += ["stub-zone:", f"    name: \"{zone}\"", f"    stub-addr: {SILENT_ADDR}"]
    conf += ["forward-zone:", "    name: \".\"", "    forward-addr: 127.0.0.1"]
    return "\n".join(conf) + "\n"


def _common(listen, pidfile):
    return ["dnsmasq", "--keep-in-foreground", "--no-resolv", "--no-hosts",
            "--conf-file=/dev/null", "--user=root", "--bind-interfaces",
            f"--listen-address={listen}", f"--pid-file={pidfile}"]


_PROBE = """\
import socket, struct, sys
addr, qname, qtype, flags = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
q = b"".join(bytes([len(l)]) + l.encode() for l in qname.strip(".").split(".") if l)
m = struct.pack(">HHHHHH", 7, flags, 1, 0, 0, 0) + q + b"\\0" + struct.pack(">HH", qtype, 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(float(sys.argv[5]))
s.sendto(m, (addr, 53))
try:
    d, _ = s.recvfrom(4096)
except OSError:
    sys.exit(1)
if d[:2] != m[:2]:
    sys.exit(1)
print(d[3] & 15, 1 if d[3] & 0x20 else 0)
"""


def _probe(prefix, addr="127.0.0.1", qname="ready.test", qtype=1, ad=False, timeout=0.3):
    """Ask ADDR:53 from inside the namespace (RD, and AD when ad).
    -> (rcode, AD bit of the answer), or None without an answer."""
    flags = 0x0100 | (0x0020 if ad else 0)
    r = subprocess.run(prefix + ["python3", "-c", _PROBE, addr, qname, str(qtype),
                                 str(flags), str(timeout)],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True)
    if r.returncode != 0:
        return None
    rcode, adbit = r.stdout.split()
    return int(rcode), adbit == "1"


def _query(prefix, timeout=0.3):
    """True once the main server answers (from inside the namespace)."""
    return _probe(prefix, timeout=timeout) is not None


class DnsLab:
    def __init__(self, prefix, lines, certs, tmp):
        self.prefix = prefix
        self.tmp = tmp
        self.procs = []
        self.log = os.path.join(tmp, "dns.log")
        why = missing_tools(lines)
        if why:
            raise DnsLabMissing(why)
        self.args, self.servfail, self.zones, self.ttl = parse(lines, certs)

    def _errfile(self, what):
        name = "unbound" if what == "signed" else f"dnsmasq-{what}"
        return os.path.join(self.tmp, f"{name}.err")

    def _spawn(self, argv, what):
        errf = open(self._errfile(what), "w", encoding="utf-8")
        proc = subprocess.Popen(self.prefix + argv, stdin=subprocess.DEVNULL,
                                stdout=errf, stderr=errf, start_new_session=True)
        errf.close()
        self.procs.append((proc, what))
        return proc

    def _start_signed(self):
        zones = {z: sign_zone(z, recs, self.ttl, self.tmp) for z, recs in self.zones.items()}
        conf = os.path.join(self.tmp, "unbound.conf")
        with open(conf, "w", encoding="utf-8") as f:
            f.write(unbound_conf(zones, self.tmp))
        self._spawn([_which("unbound"), "-d", "-c", conf], "signed")

    def _check_signed(self):
        """None once every signed zone answers with AD through 127.0.0.1,
        else why not; False while unbound is not up yet."""
        for zone in self.zones:
            if _probe(self.prefix, SIGNED_ADDR, zone, 6) is None:
                return False
        for zone in self.zones:
            got = _probe(self.prefix, "127.0.0.1", zone, 6, ad=True, timeout=2)
            if got != (0, True):
                return (f"the SOA of signed zone {zone} through 127.0.0.1 came back "
                        f"{'without an answer' if got is None else 'rcode %d, AD %s' % got}, "
                        f"not NOERROR with AD (see {self._errfile('signed')})")
        return None

    def start(self):
        if self.zones:
            self._start_signed()
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
                        with open(self._errfile(what),
                                  encoding="utf-8", errors="replace") as f:
                            err = f.read().strip()
                    except OSError:
                        pass
                    self.stop()
                    prog = "unbound" if what == "signed" else f"dnsmasq ({what})"
                    raise DnsLabError(f"{prog} exited {proc.returncode}: {err}")
            if _query(self.prefix):
                if not self.zones:
                    return
                why = self._check_signed()
                if why is None:
                    return
                if why:
                    self.stop()
                    raise DnsLabError(why)
            time.sleep(0.05)
        self.stop()
        raise DnsLabError("the DNS servers did not answer on 127.0.0.1:53 within 10 s")

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
