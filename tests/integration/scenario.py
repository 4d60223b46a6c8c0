"""scenario.py -- the [test] half of smtpcheck's scenario files.

Owns: reading and checking a scenario's `[test]` section (and its `[file
NAME]` sections), placeholder substitution, the JSON-path language of `json`
expectations, and the evaluation of every expectation kind against one
smtpcheck run.  No processes, no sockets: run-scenarios does the running,
selftest.py drives this module directly.  The `[server LABEL]` sections belong
to tests/server/smtpserver.py; the format of both is described in
tests/scenarios/README.md.
"""

import configparser
import json
import math
import os
import re
import shlex

TEST_KEYS = {"description", "args", "exit", "env", "stdin", "timeout", "expect",
             "requires", "addr", "hosts", "backends", "dns", "stderr-tty"}
FILE_TYPES = {"regular", "fifo"}
REQUIREMENTS = {"root", "ipv6", "real-ports", "no-wrapper"}
# Who answers smtpcheck: tests/server/smtpserver.py playing the [server LABEL]
# sections, or a real Postfix (scripts/postfix-lab) set up by the [postfix]
# section's profile.  A scenario runs once per backend it lists.
BACKENDS = ("scripted", "postfix")
POSTFIX_KEYS = {"profile"}
BACKEND_PREFIX = re.compile(r"^\[([^\]\s]*)\]\s+(.*)$")
DEFAULT_TIMEOUT = 30.0
MISSING = object()          # a JSON path that leads nowhere


class EscapedText(str):
    """File content whose Python escapes are interpreted once its
    placeholders are expanded (see file_bytes)."""


def file_bytes(content, subst):
    """The bytes of a [file] section: placeholders expanded, escapes
    interpreted if asked for, a newline added."""
    text = subst(content)
    if isinstance(content, EscapedText):
        return text.encode("utf-8").decode("unicode_escape").encode("latin-1") + b"\n"
    return (text + "\n").encode("utf-8")


class ScenarioError(Exception):
    """The scenario file itself is wrong (not the program under test)."""


def new_config_parser():
    """Same reader settings as the server: `=` only, keys case-sensitive."""
    cp = configparser.ConfigParser(interpolation=None, delimiters=("=",),
                                   empty_lines_in_values=False,
                                   default_section="\x00no-default-section")
    cp.optionxform = str
    return cp


class Scenario:
    """One .scn file: its [test] settings (placeholders not yet expanded)."""

    def __init__(self, path):
        self.path = os.path.abspath(path)
        self.name = os.path.basename(path)
        if self.name.endswith(".scn"):
            self.name = self.name[:-4]
        cp = new_config_parser()
        try:
            with open(path, encoding="utf-8") as f:
                cp.read_file(f)
        except (OSError, UnicodeDecodeError, configparser.Error) as exc:
            raise ScenarioError(str(exc)) from None
        if not cp.has_section("test"):
            raise ScenarioError("no [test] section")
        test = dict(cp["test"])
        unknown = sorted(set(test) - TEST_KEYS)
        if unknown:
            raise ScenarioError(f"[test]: unknown key {unknown[0]!r} "
                                f"(known: {', '.join(sorted(TEST_KEYS))})")
        if "args" not in test:
            raise ScenarioError("[test]: `args` is required")
        self.description = test.get("description", "")
        self.args = test["args"]
        self.exit = parse_exit(test.get("exit", "any"))
        self.env = [l.strip() for l in test.get("env", "").split("\n") if l.strip()]
        for item in self.env:
            if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", item):
                raise ScenarioError(f"[test] env: expected NAME=VALUE, got {item!r}")
        self.stdin = test.get("stdin")
        # `stderr-tty = yes`: smtpcheck's stderr is a pseudo-terminal (what
        # it writes there is still `stderr` for the expectations).
        tty = test.get("stderr-tty", "no").strip()
        if tty not in ("yes", "no"):
            raise ScenarioError("[test] stderr-tty: yes or no")
        self.stderr_tty = tty == "yes"
        try:
            self.timeout = float(test.get("timeout", DEFAULT_TIMEOUT))
        except ValueError:
            raise ScenarioError("[test] timeout: expected seconds") from None
        self.expect = [l.strip() for l in test.get("expect", "").split("\n") if l.strip()]
        self.requires = [r for r in re.split(r"[\s,]+", test.get("requires", "")) if r]
        for r in self.requires:
            if r not in REQUIREMENTS:
                raise ScenarioError(f"[test] requires: unknown requirement {r!r} "
                                    f"(known: {', '.join(sorted(REQUIREMENTS))})")
        self.addr = test.get("addr", "127.0.0.1")
        # `hosts`: lines of an /etc/hosts for a network namespace of the
        # scenario's own, so smtpcheck resolves names through c-ares.
        self.hosts = [l.strip() for l in test.get("hosts", "").split("\n") if l.strip()]
        if self.hosts and "root" not in self.requires:
            self.requires.append("root")
        # `dns`: records for a real DNS server (dnsmasq) in that namespace,
        # where its resolv.conf points (see dnslab.py for the lines).
        self.dns = [l.strip() for l in test.get("dns", "").split("\n") if l.strip()]
        if self.dns and "root" not in self.requires:
            self.requires.append("root")
        # [file NAME]: written into {tmp} before the run. `type = fifo` makes
        # a named pipe (see run-scenarios); `escapes = yes` interprets
        # Python escapes in the content (\n for a blank line, \x23 for a
        # '#' that would otherwise start a comment); `repeat = N` writes a
        # regular file's content (with its newline) N times, for long lists.
        self.files = {}         # name -> (content (text), repeat), a regular file
        self.fifos = {}         # name -> (content or None, close-after or None)
        for section in cp.sections():
            kind, _, fname = section.partition(" ")
            if kind != "file":
                continue
            fname = fname.strip()
            if not re.match(r"^[A-Za-z0-9_.-]+$", fname) or fname.startswith("."):
                raise ScenarioError(f"[{section}]: bad file name")
            keys = dict(cp[section])
            ftype = keys.pop("type", "regular").strip()
            if ftype not in FILE_TYPES:
                raise ScenarioError(f"[{section}] type: regular or fifo")
            escapes = keys.pop("escapes", "no").strip()
            if escapes not in ("yes", "no"):
                raise ScenarioError(f"[{section}] escapes: yes or no")
            repeat = keys.pop("repeat", "1").strip() if ftype == "regular" else "1"
            if not re.match(r"^[1-9][0-9]{0,6}$", repeat):
                raise ScenarioError(f"[{section}] repeat: a count from 1 to 9999999")
            close_after = keys.pop("close-after", None) if ftype == "fifo" else None
            if close_after is not None:
                try:
                    close_after = float(close_after)
                except ValueError:
                    raise ScenarioError(f"[{section}] close-after: seconds") from None
            if set(keys) - {"content"} or (ftype == "regular" and "content" not in keys):
                raise ScenarioError(f"[{section}]: the keys are `content`, `type`, `escapes`,"
                                    " for a regular file `repeat`, for a fifo `close-after` "
                                    "(content is required for a regular file)")
            content = keys.get("content")
            if content is not None and escapes == "yes":
                content = EscapedText(content)
            if ftype == "fifo":
                self.fifos[fname] = (content, close_after)
            else:
                self.files[fname] = (content, int(repeat))
        self.server_labels = [s.partition(" ")[2].strip() for s in cp.sections()
                              if s.startswith("server ") and s.strip() != "server *"]
        self.backends = [b for b in re.split(r"[\s,]+", test.get("backends", "scripted")) if b]
        for b in self.backends:
            if b not in BACKENDS:
                raise ScenarioError(f"[test] backends: unknown backend {b!r} "
                                    f"(known: {', '.join(BACKENDS)})")
        if not self.backends or len(set(self.backends)) != len(self.backends):
            raise ScenarioError("[test] backends: name each backend once")
        self.postfix_profile = None
        if cp.has_section("postfix"):
            keys = dict(cp["postfix"])
            if set(keys) != POSTFIX_KEYS:
                raise ScenarioError("[postfix]: the only key is `profile`")
            self.postfix_profile = keys["profile"].strip()
            if not re.match(r"^[a-z0-9][a-z0-9-]*$", self.postfix_profile):
                raise ScenarioError(f"[postfix] profile: bad name {self.postfix_profile!r}")
            if "postfix" not in self.backends:
                raise ScenarioError("[postfix] section, but `backends` lacks postfix")
        if "postfix" in self.backends:
            if self.postfix_profile is None:
                raise ScenarioError("backend postfix needs a [postfix] section with `profile`")
            if not self.hosts:
                raise ScenarioError("backend postfix needs `hosts` (it runs in a network "
                                    "namespace of its own, on the real ports)")
        if "scripted" in self.backends and len(self.backends) > 1 and not self.server_labels:
            raise ScenarioError("backend scripted needs [server LABEL] sections")
        for line in self.expect:
            self.split_backend(line)

    def split_backend(self, line):
        """`[postfix] EXPECTATION` -> ("postfix", "EXPECTATION"); an
        expectation without a prefix -> (None, line): it holds for every
        backend."""
        m = BACKEND_PREFIX.match(line)
        if not m:
            return None, line
        backend = m.group(1)
        if backend not in self.backends:
            raise ScenarioError(f"expect {line!r}: [{backend}] is not one of this "
                                f"scenario's backends ({' '.join(self.backends)})")
        return backend, m.group(2)

    def expectations(self, subst, backend=None):
        """Parse `expect` after placeholder substitution: the lines without a
        `[backend]` prefix, and those whose prefix names `backend`."""
        chosen = []
        for line in self.expect:
            only, text = self.split_backend(line)
            if only is None or only == backend:
                chosen.append(text)
        return [parse_expectation(subst(line)) for line in chosen]

    def server_scenario(self):
        """The file's text without its [postfix] section, for the scripted
        server (which rejects sections it does not know)."""
        with open(self.path, encoding="utf-8") as f:
            lines = f.read().splitlines(keepends=True)
        kept, skipping = [], False
        for line in lines:
            m = re.match(r"^\[([^\]]*)\]\s*$", line)
            if m:
                skipping = m.group(1).strip() == "postfix"
            if not skipping:
                kept.append(line)
        return "".join(kept)

    def argv(self, subst):
        """`args` split like a shell would (never run through one), then each
        word's placeholders expanded: a path with spaces stays one word."""
        try:
            words = shlex.split(self.args)
        except ValueError as exc:
            raise ScenarioError(f"[test] args: {exc}") from None
        return [subst(w) for w in words]


def parse_exit(text):
    text = text.strip()
    if text == "any":
        return None
    try:
        return {int(v) for v in text.split(",")}
    except ValueError:
        raise ScenarioError(f"[test] exit: expected a code, codes like 1,2, or any; "
                            f"got {text!r}") from None


# --------------------------------------------------------------------------
# Placeholders: {addr} {port:LABEL} {ca} {certs} {smtpcheck} {tmp} {scndir} {byte:HH}

PLACEHOLDER = re.compile(r"\{(addr|ca|certs|smtpcheck|tmp|scndir|port:[^{}\s]*|byte:[0-9a-fA-F]{2})\}")


def make_substituter(values, ports):
    """values: name -> text; ports: label -> port.  Unknown {port:X} is an
    error; any other brace text ({} in JSON, \\d{2} in a regex) is left alone."""
    def expand(match):
        name = match.group(1)
        if name.startswith("port:"):
            label = name[5:]
            if label not in ports:
                raise ScenarioError(f"placeholder {{{name}}}: no [server {label}]")
            return str(ports[label])
        if name.startswith("byte:"):
            # One raw byte, for arguments no text file should hold (ESC,
            # invalid UTF-8); above 0x7f as a surrogate, which os.fsencode
            # turns back into that byte on the way to exec.
            b = int(name[5:], 16)
            return chr(b) if b < 0x80 else chr(0xDC00 + b)
        return values[name]

    def subst(text):
        return PLACEHOLDER.sub(expand, text)
    return subst


# --------------------------------------------------------------------------
# JSON paths:  ports[0].tls.ok   ports[*].port   findings[id=cert-expired].severity
#              ports[port=465].tls.cert.days_left   [0]   summary

class PathError(ScenarioError):
    pass


def parse_path(text):
    """-> list of ('key', name) | ('index', n) | ('all',) | ('where', keys, raw)"""
    segments = []
    i, n = 0, len(text)
    expect_key = True
    while i < n:
        c = text[i]
        if c == "[":
            j = text.find("]", i)
            if j < 0:
                raise PathError(f"path {text!r}: missing ]")
            inner = text[i + 1:j].strip()
            if inner == "*":
                segments.append(("all",))
            elif re.match(r"^-?\d+$", inner):
                segments.append(("index", int(inner)))
            elif "=" in inner:
                key, _, raw = inner.partition("=")
                if not key.strip():
                    raise PathError(f"path {text!r}: empty key in [{inner}]")
                segments.append(("where", key.strip().split("."), raw.strip()))
            else:
                raise PathError(f"path {text!r}: [{inner}] is not N, * or key=value")
            i = j + 1
            expect_key = False
        elif c == ".":
            if expect_key:
                raise PathError(f"path {text!r}: unexpected '.'")
            i += 1
            expect_key = True
        else:
            if not expect_key:
                raise PathError(f"path {text!r}: expected '.' or '[' at {text[i:]!r}")
            m = re.match(r"[^.\[\]]+", text[i:])
            segments.append(("key", m.group(0)))
            i += len(m.group(0))
            expect_key = False
    if not segments or expect_key:
        raise PathError(f"path {text!r}: incomplete")
    return segments


def format_path(segments):
    out = ""
    for seg in segments:
        if seg[0] == "key":
            out += ("." if out else "") + seg[1]
        elif seg[0] == "index":
            out += f"[{seg[1]}]"
        elif seg[0] == "all":
            out += "[*]"
        else:
            out += f"[{'.'.join(seg[1])}={seg[2]}]"
    return out


def _get_keys(value, keys):
    for key in keys:
        if not isinstance(value, dict) or key not in value:
            return MISSING
        value = value[key]
    return value


def filter_matches(actual, raw):
    """[key=raw]: raw compared in the element value's own type."""
    if actual is MISSING:
        return False
    if len(raw) >= 2 and raw[0] == raw[-1] == '"':
        return actual == raw[1:-1]
    if isinstance(actual, bool):
        return raw == ("true" if actual else "false")
    if actual is None:
        return raw == "null"
    if isinstance(actual, (int, float)):
        try:
            return float(raw) == actual
        except ValueError:
            return False
    if isinstance(actual, str):
        return actual == raw
    try:
        return json_equal(actual, json.loads(raw))
    except ValueError:
        return False


def resolve(doc, segments):
    """-> (bindings, universal): bindings is a list of (concrete path, value),
    value possibly MISSING; universal is True when the path has a [*]."""
    bindings = [("", doc)]
    universal = False
    for seg in segments:
        nxt = []
        for where, value in bindings:
            kind = seg[0]
            if kind == "key":
                v = value.get(seg[1], MISSING) if isinstance(value, dict) else MISSING
                nxt.append((f"{where}.{seg[1]}" if where else seg[1], v))
            elif kind == "index":
                ok = isinstance(value, list) and -len(value) <= seg[1] < len(value)
                nxt.append((f"{where}[{seg[1]}]", value[seg[1]] if ok else MISSING))
            elif kind == "all":
                universal = True
                if isinstance(value, list):
                    nxt.extend((f"{where}[{k}]", v) for k, v in enumerate(value))
                else:
                    nxt.append((f"{where}[*]", MISSING))
            else:
                _, keys, raw = seg
                label = f"{where}[{'.'.join(keys)}={raw}]"
                found = MISSING
                if isinstance(value, list):
                    for element in value:
                        if filter_matches(_get_keys(element, keys), raw):
                            found = element
                            break
                nxt.append((label, found))
        bindings = nxt
    return bindings, universal


def json_equal(a, b):
    """JSON equality: 1 == 1.0, but true != 1 and false != 0."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def show(value, limit=300):
    if value is MISSING:
        return "(missing)"
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[:limit] + "..."


# --------------------------------------------------------------------------
# Operators of `json` expectations: (actual, operand) -> True or a reason

def _op_eq(actual, want):
    return json_equal(actual, want) or f"is {show(actual)}, expected {show(want)}"


def _op_ne(actual, want):
    return not json_equal(actual, want) or f"is {show(actual)}"


def _op_match(actual, regex):
    if not isinstance(actual, str):
        return f"is {show(actual)}, not a string"
    return bool(regex.search(actual)) or f"is {show(actual)}, no match for /{regex.pattern}/"


def _op_nomatch(actual, regex):
    if not isinstance(actual, str):
        return f"is {show(actual)}, not a string"
    m = regex.search(actual)
    return not m or f"is {show(actual)}, which matches /{regex.pattern}/ at {m.group(0)!r}"


def _op_contains(actual, want):
    if isinstance(actual, list):
        return any(json_equal(x, want) for x in actual) or \
            f"is {show(actual)}, which lacks {show(want)}"
    if isinstance(actual, str) and isinstance(want, str):
        return want in actual or f"is {show(actual)}, which lacks {show(want)}"
    return f"is {show(actual)}, not an array"


def _op_not_contains(actual, want):
    if isinstance(actual, list):
        return not any(json_equal(x, want) for x in actual) or \
            f"is {show(actual)}, which contains {show(want)}"
    if isinstance(actual, str) and isinstance(want, str):
        return want not in actual or f"is {show(actual)}, which contains {show(want)}"
    return f"is {show(actual)}, not an array"


def _numeric(test, symbol):
    def op(actual, want):
        if not is_number(actual):
            return f"is {show(actual)}, not a number"
        return test(actual, want) or f"is {show(actual)}, expected {symbol} {show(want)}"
    return op


JSON_OPS = {
    "==": (_op_eq, "json"),
    "!=": (_op_ne, "json"),
    "~": (_op_match, "regex"),
    "!~": (_op_nomatch, "regex"),
    "contains": (_op_contains, "json"),
    "!contains": (_op_not_contains, "json"),
    ">=": (_numeric(lambda a, b: a >= b, ">="), "number"),
    "<=": (_numeric(lambda a, b: a <= b, "<="), "number"),
    ">": (_numeric(lambda a, b: a > b, ">"), "number"),
    "<": (_numeric(lambda a, b: a < b, "<"), "number"),
    "exists": (None, None),
    "missing": (None, None),
}


def compile_regex(text, where):
    try:
        return re.compile(text, re.MULTILINE)
    except re.error as exc:
        raise ScenarioError(f"{where}: bad regex {text!r}: {exc}") from None


def parse_operand(kind, text, where):
    if kind == "regex":
        return compile_regex(text, where)
    try:
        value = json.loads(text)
    except ValueError:
        raise ScenarioError(f"{where}: {text!r} is not a JSON literal "
                            "(quote strings: \"text\")") from None
    if kind == "number" and not is_number(value):
        raise ScenarioError(f"{where}: {text!r} is not a number")
    return value


def eval_json_path(doc, segments, op, operand):
    """-> None when satisfied, else the reason (str)."""
    bindings, universal = resolve(doc, segments)
    if universal and not bindings:
        return f"{format_path(segments)} matched no element"
    for where, value in bindings:
        if op == "exists":
            result = value is not MISSING or "is missing"
        elif op == "missing":
            result = value is MISSING or f"exists: {show(value)}"
        elif value is MISSING:
            result = "is missing"
        else:
            result = JSON_OPS[op][0](value, operand)
        if result is not True:
            return f"{where or '(document)'} {result}"
    return None


# --------------------------------------------------------------------------
# Expectations

class Outcome:
    """What one smtpcheck run produced, as the expectations see it."""

    def __init__(self, stdout, stderr, exit_code, elapsed, server_log):
        self.stdout = stdout
        self.stderr = stderr
        self.exit_code = exit_code
        self.elapsed = elapsed
        self.server_log = server_log
        self._docs = {}

    def json_doc(self, line=None):
        """The first JSON value on stdout, or that of non-empty line N (1-based).
        Raises ValueError with a readable reason."""
        if line in self._docs:
            return self._docs[line]
        if line is None:
            text = self.stdout.lstrip()
            if not text:
                raise ValueError("stdout is empty, no JSON")
            try:
                doc, _ = json.JSONDecoder().raw_decode(text)
            except ValueError as exc:
                raise ValueError(f"stdout is not JSON ({exc})") from None
        else:
            lines = [l for l in self.stdout.splitlines() if l.strip()]
            if line > len(lines):
                raise ValueError(f"stdout has {len(lines)} non-empty lines, no line {line}")
            try:
                doc = json.loads(lines[line - 1])
            except ValueError as exc:
                raise ValueError(f"stdout line {line} is not JSON ({exc})") from None
        self._docs[line] = doc
        return doc


class Expectation:
    """One `expect` line.  check(outcome) -> None or the reason it failed."""

    def __init__(self, text):
        self.text = text
        self.informational = False

    def check(self, outcome):
        raise NotImplementedError


class JsonExpectation(Expectation):
    def __init__(self, text, line, path, op, operand):
        super().__init__(text)
        self.line, self.path, self.op, self.operand = line, path, op, operand

    def check(self, outcome):
        try:
            doc = outcome.json_doc(self.line)
        except ValueError as exc:
            return str(exc)
        return eval_json_path(doc, self.path, self.op, self.operand)


class FindingExpectation(Expectation):
    def __init__(self, text, wanted, finding_id, port, severity):
        super().__init__(text)
        self.wanted, self.id, self.port, self.severity = wanted, finding_id, port, severity

    def matches(self, f):
        if not isinstance(f, dict) or f.get("id") != self.id:
            return False
        if self.port is not None and not (is_number(f.get("port")) and f["port"] == self.port):
            return False
        return self.severity is None or f.get("severity") == self.severity

    def check(self, outcome):
        try:
            doc = outcome.json_doc()
        except ValueError as exc:
            return str(exc)
        findings = doc.get("findings") if isinstance(doc, dict) else None
        if not isinstance(findings, list):
            return f"no findings array in the JSON (findings is {show(doc.get('findings', MISSING) if isinstance(doc, dict) else MISSING)})"
        hits = [f for f in findings if self.matches(f)]
        if bool(hits) == self.wanted:
            return None
        present = ", ".join(
            f"{f.get('id')}(port={f.get('port')},{f.get('severity')})"
            for f in findings if isinstance(f, dict)) or "none"
        if self.wanted:
            return f"no such finding; findings present: {present}"
        return f"unwanted finding present: {show(hits[0])}"


class TextExpectation(Expectation):
    """firstline / stdout / stderr / server-log  ~ or !~  REGEX"""

    def __init__(self, text, stream, negate, regex):
        super().__init__(text)
        self.stream, self.negate, self.regex = stream, negate, regex

    def subject(self, outcome):
        if self.stream == "firstline":
            return outcome.stdout.split("\n", 1)[0]
        if self.stream == "server-log":
            return outcome.server_log
        return getattr(outcome, self.stream)

    def check(self, outcome):
        text = self.subject(outcome)
        m = self.regex.search(text)
        if self.negate and m:
            line_start = text.rfind("\n", 0, m.start()) + 1
            line_end = text.find("\n", m.end())
            line = text[line_start:line_end if line_end >= 0 else len(text)]
            return f"{self.stream} matches /{self.regex.pattern}/ in line: {line[:300]!r}"
        if not self.negate and not m:
            if self.stream == "firstline":
                return f"first line is {text[:300]!r}"
            return f"{self.stream} has no match for /{self.regex.pattern}/"
        return None


class CountExpectation(Expectation):
    """server-log-count OP N REGEX: number of log lines matching REGEX."""

    def __init__(self, text, op, number, regex):
        super().__init__(text)
        self.op, self.number, self.regex = op, number, regex

    def check(self, outcome):
        count = sum(1 for line in outcome.server_log.splitlines() if self.regex.search(line))
        result = JSON_OPS[self.op][0](count, self.number)
        return None if result is True else f"count {result}"


class MaxSecondsExpectation(Expectation):
    def __init__(self, text, seconds):
        super().__init__(text)
        self.seconds = seconds

    def check(self, outcome):
        if outcome.elapsed < self.seconds:
            return None
        return f"smtpcheck took {outcome.elapsed:.3f} s, limit {self.seconds} s"


class PrintElapsed(Expectation):
    def __init__(self, text):
        super().__init__(text)
        self.informational = True

    def check(self, outcome):
        return None


def split_path(rest):
    """Split 'PATH OP VALUE' where PATH may hold spaces inside [...]."""
    depth = 0
    for i, c in enumerate(rest):
        if c == "[":
            depth += 1
        elif c == "]":
            depth -= 1
        elif c.isspace() and depth == 0:
            return rest[:i], rest[i:].strip()
    return rest, ""


def parse_expectation(text):
    where = f"expect {text!r}"
    kind, _, rest = text.partition(" ")
    rest = rest.strip()
    if kind in ("json", "jsonl"):
        line = None
        if kind == "jsonl":
            num, _, rest = rest.partition(" ")
            if not num.isdigit() or int(num) < 1:
                raise ScenarioError(f"{where}: jsonl needs a line number >= 1")
            line = int(num)
            rest = rest.strip()
        path_text, rest = split_path(rest)
        if not path_text:
            raise ScenarioError(f"{where}: missing PATH")
        path = parse_path(path_text)
        op, _, operand_text = rest.partition(" ")
        operand_text = operand_text.strip()
        if op not in JSON_OPS:
            raise ScenarioError(f"{where}: unknown operator {op!r} "
                                f"(known: {' '.join(JSON_OPS)})")
        kind_of_operand = JSON_OPS[op][1]
        if kind_of_operand is None:
            if operand_text:
                raise ScenarioError(f"{where}: {op} takes no value")
            operand = None
        else:
            if not operand_text:
                raise ScenarioError(f"{where}: {op} needs a value")
            operand = parse_operand(kind_of_operand, operand_text, where)
        return JsonExpectation(text, line, path, op, operand)
    if kind in ("finding", "no-finding"):
        words = rest.split()
        if not words:
            raise ScenarioError(f"{where}: missing finding id")
        port = severity = None
        for w in words[1:]:
            if w.startswith("port=") and re.match(r"^\d+$", w[5:]):
                port = int(w[5:])
            elif w.startswith("severity=") and w[9:]:
                severity = w[9:]
            else:
                raise ScenarioError(f"{where}: expected port=N or severity=S, got {w!r}")
        return FindingExpectation(text, kind == "finding", words[0], port, severity)
    if kind in ("firstline", "stdout", "stderr", "server-log"):
        op, _, regex = rest.partition(" ")
        if op not in ("~", "!~") or not regex.strip():
            raise ScenarioError(f"{where}: usage {kind} ~|!~ REGEX")
        return TextExpectation(text, kind, op == "!~", compile_regex(regex.strip(), where))
    if kind == "server-log-count":
        words = rest.split(None, 2)
        if len(words) != 3 or words[0] not in ("==", "!=", ">=", "<=", ">", "<") \
                or not words[1].isdigit():
            raise ScenarioError(f"{where}: usage server-log-count OP N REGEX")
        return CountExpectation(text, words[0], int(words[1]), compile_regex(words[2], where))
    if kind == "max-seconds":
        try:
            return MaxSecondsExpectation(text, float(rest))
        except ValueError:
            raise ScenarioError(f"{where}: usage max-seconds SECONDS") from None
    if kind == "print-elapsed":
        if rest:
            raise ScenarioError(f"{where}: print-elapsed takes no argument")
        return PrintElapsed(text)
    raise ScenarioError(f"{where}: unknown kind {kind!r} (known: json jsonl finding "
                        "no-finding firstline stdout stderr server-log server-log-count "
                        "max-seconds print-elapsed)")


def check_all(expectations, outcome):
    """-> list of (expectation text, reason) for every failed expectation."""
    failures = []
    for exp in expectations:
        reason = exp.check(outcome)
        if reason is not None:
            failures.append((exp.text, reason))
    return failures


# --------------------------------------------------------------------------
# Contract checks run on EVERY scenario's output (not written per scenario):
# the Nagios status line in its strict form, and every JSON document against
# the field list of the product contract.

_NUM = r"-?\d+(?:\.\d+)?"
_RANGE = r"@?(?:~|" + _NUM + r")?(?::(?:" + _NUM + r")?)?"
_PERF = (r"'[^'=]+'=" + _NUM + r"(?:s|ms|us|%|B|KB|MB|TB|c)?;(?:" + _RANGE + r")?;(?:"
         + _RANGE + r")?;(?:" + _NUM + r")?;(?:" + _NUM + r")?")
STATUS_LINE = re.compile(r"^SMTPCHECK (OK|WARNING|CRITICAL|UNKNOWN) - [^|\n]*[^|\n ]"
                         r"(?: \| " + _PERF + r"(?: " + _PERF + r")*)?$")
STATUS_CODE = {"OK": 0, "WARNING": 1, "CRITICAL": 2, "UNKNOWN": 3}
STATE_RANK = ["OK", "WARNING", "UNKNOWN", "CRITICAL"]   # from best to worst

HOST_KEYS = {"version", "host", "status", "exit_code", "summary", "error", "elapsed_ms",
             "addresses", "dns_error", "dns_ms", "ports", "findings", "recommendation",
             "client_steps", "client_summaries", "thunderbird_autoconfig"}
PORT_KEYS = {"port", "mode", "mode_requested", "address", "connected", "error", "failure",
             "stalled_in", "greeting_code", "banner", "helo_fallback", "starttls_offered",
             "starttls_reply", "tls", "tls_mode_mismatch", "auth_before_tls",
             "auth_after_tls", "extensions", "extensions_before_tls", "auth",
             "auth_status", "relay", "relay_after_auth", "mechanism_tests", "stop_reply",
             "timings_ms", "transcript"}
TLS_KEYS = {"ok", "version", "cipher", "verified", "verify_error", "error",
            "injected_plaintext", "cert"}
CERT_KEYS = {"subject", "issuer", "not_before", "not_after", "days_left", "names",
             "key_type", "key_bits", "signature"}
TIMING_KEYS = {"dns", "connect", "banner", "ehlo", "starttls", "tls", "ehlo_tls", "auth", "mail",
               "rcpt", "quit", "total"}
AUTH_KEYS = {"mechanism", "username", "username_form", "code", "enhanced", "text", "ok",
             "server_verified", "error", "attempts"}
RELAY_KEYS = {"code", "enhanced", "text", "accepted", "open_relay", "mail", "rcpt",
              "pipelined"}
FINDING_KEYS = {"id", "severity", "port", "address", "message", "meaning", "advice"}
REC_KEYS = {"server", "port", "security", "auth", "username", "username_value", "spa",
            "password_remembered"}
EXPLAIN_KEYS = {"version", "input", "recognised", "status", "exit_code", "summary", "code",
                "enhanced", "reply_text", "client_code", "findings"}


def _keys(where, obj, keys, problems):
    if not isinstance(obj, dict):
        problems.append(f"{where}: not an object")
        return False
    missing = sorted(keys - set(obj))
    if missing:
        problems.append(f"{where}: missing {', '.join(missing)}")
    return True


def _types(where, obj, spec, problems):
    for key, types in spec.items():
        if key in obj and not isinstance(obj[key], types):
            problems.append(f"{where}.{key}: {type(obj[key]).__name__} is not {types}")


def validate_host_json(doc, exit_code=None):
    """Problems of one host document against the product's JSON contract."""
    p = []
    if not _keys("host", doc, HOST_KEYS, p):
        return p
    # A run that probed nothing (bad usage, no password) has the same keys,
    # an error, UNKNOWN, and null or empty where nothing applies.
    error_doc = doc.get("error") is not None
    null_ok = (type(None),) if error_doc else ()
    _types("host", doc, {"version": str, "host": (str,) + null_ok,
                         "status": str, "exit_code": int, "summary": str,
                         "error": str if error_doc else type(None),
                         "elapsed_ms": (int, float) + null_ok,
                         "addresses": list, "ports": list, "findings": list,
                         "client_steps": list, "client_summaries": list,
                         "dns_error": (str, type(None))}, p)
    if error_doc:
        if doc.get("status") != "UNKNOWN":
            p.append(f"an error document with status {doc.get('status')!r}, not UNKNOWN")
        if doc.get("ports") or doc.get("findings"):
            p.append("an error document with ports or findings")
        if doc.get("summary") != doc.get("error"):
            p.append("an error document whose summary is not its error")
    if doc.get("status") not in STATUS_CODE:
        p.append(f"status {doc.get('status')!r} is not a Nagios state")
    elif STATUS_CODE[doc["status"]] != doc.get("exit_code"):
        p.append("exit_code does not match status")
    for i, port in enumerate(doc.get("ports") or []):
        w = f"ports[{i}]"
        if not _keys(w, port, PORT_KEYS, p):
            continue
        _types(w, port, {"port": int, "mode": str, "address": str, "connected": bool,
                         "error": (str, type(None)), "banner": (str, type(None)),
                         "auth_before_tls": (list, type(None)),
                         "auth_after_tls": (list, type(None)),
                         "extensions": (list, type(None)), "timings_ms": dict}, p)
        if port.get("mode") not in ("starttls", "tls"):
            p.append(f"{w}.mode {port.get('mode')!r}")
        if port.get("tls") is not None and _keys(w + ".tls", port["tls"], TLS_KEYS, p):
            if port["tls"].get("cert") is not None:
                _keys(w + ".tls.cert", port["tls"]["cert"], CERT_KEYS, p)
        if isinstance(port.get("timings_ms"), dict):
            _keys(w + ".timings_ms", port["timings_ms"], TIMING_KEYS, p)
        if port.get("auth") is not None:
            _keys(w + ".auth", port["auth"], AUTH_KEYS, p)
        for rk in ("relay", "relay_after_auth"):
            if port.get(rk) is not None:
                _keys(f"{w}.{rk}", port[rk], RELAY_KEYS, p)
    for i, f in enumerate(doc.get("findings") or []):
        if _keys(f"findings[{i}]", f, FINDING_KEYS, p):
            if f.get("severity") not in ("ok", "info", "warning", "critical"):
                p.append(f"findings[{i}].severity {f.get('severity')!r}")
            if not isinstance(f.get("advice"), list):
                p.append(f"findings[{i}].advice is not a list")
    if doc.get("recommendation") is not None:
        _keys("recommendation", doc["recommendation"], REC_KEYS, p)
    if exit_code is not None and doc.get("exit_code") != exit_code:
        p.append(f"exit_code {doc.get('exit_code')} but the process exited {exit_code}")
    return p


PROM_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*",?)*\})? '
                         r'(-?[0-9.]+(?:e[-+]?[0-9]+)?|NaN|[-+]Inf)$')


def prometheus_checks(lines):
    """The text exposition format: HELP and TYPE once per family, before
    its samples; every sample parses; no two samples with the same name
    and labels (the textfile collector rejects the file otherwise)."""
    problems = []
    helped, typed, seen = set(), set(), set()
    for n, line in enumerate(lines, 1):
        if line.startswith("# HELP ") or line.startswith("# TYPE "):
            fam = line.split()[2]
            bucket = helped if line.startswith("# HELP") else typed
            if fam in bucket:
                problems.append(f"line {n}: second {line[:6]} for {fam}")
            bucket.add(fam)
            continue
        m = PROM_SAMPLE.match(line)
        if not m:
            problems.append(f"line {n} is not a sample: {line[:120]!r}")
            continue
        if m.group(1) not in typed:
            problems.append(f"line {n}: {m.group(1)} has no # TYPE before it")
        key = (m.group(1), m.group(2) or "")
        if key in seen:
            problems.append(f"line {n}: duplicate series {line[:120]!r}")
        seen.add(key)
    return [("contract: Prometheus text format", "; ".join(problems[:6]))] if problems else []


# What a memory checker prints when it found something: AddressSanitizer,
# LeakSanitizer, UBSan, and valgrind's "==PID== " lines (under -q valgrind
# prints nothing else). An exit code alone cannot tell: ASan's default 1 is
# also WARNING.
CHECKER_REPORT = re.compile(r"ERROR: (?:Address|Leak)Sanitizer|runtime error: |"
                            r"SUMMARY: UndefinedBehaviorSanitizer|^==\d+== ", re.M)


def checker_reports(stderr):
    """-> list of (what, reason): a sanitizer or valgrind report on stderr."""
    m = CHECKER_REPORT.search(stderr)
    if not m:
        return []
    line = stderr[stderr.rfind("\n", 0, m.start()) + 1:].split("\n", 1)[0]
    return [("no memory-checker report on stderr", line.strip()[:300])]


REPORT_WIDTH = 80


def _given(args, *names):
    """True when args hold one of the long options NAMES (or a prefix that
    getopt_long would take for it, "--verb"), or -v in a bundle ("-4v")."""
    for a in args:
        if a == "--":
            break
        key = a.split("=", 1)[0]
        if key.startswith("--") and len(key) > 3 and any(n.startswith(key) for n in names):
            return True
        if "--verbose" in names and re.fullmatch(r"-[46vVh]*v[46vVh]*", a):
            return True
    return False


def width_checks(lines, args):
    """The text report (and --list-clients) fits 80 columns, counted in
    characters of the decoded output. Status lines (one per host, with the
    perfdata) are exempt; -v transcripts are part of the report and wrap
    like the rest."""
    if _given(args, "--json", "--prometheus"):
        return []
    report = lines and lines[0].startswith("SMTPCHECK ")
    if not report and not _given(args, "--list-clients", "--list-findings"):
        return []
    long = [(n, l) for n, l in enumerate(lines, 1)
            if len(l) > REPORT_WIDTH and not STATUS_LINE.match(l)]
    if not long:
        return []
    n, l = long[0]
    return [(f"contract: every text report line fits {REPORT_WIDTH} columns",
             f"{len(long)} line(s) longer, first line {n} ({len(l)} columns): {l[:120]!r}")]


def contract_checks(stdout, exit_code, args):
    """-> list of (what, reason): the status line and JSON contracts."""
    failures = []
    # smtpcheck exits 0-3 and nothing else (Nagios). Any other code is a
    # crash, a signal, or a checker's verdict: valgrind's --error-exitcode,
    # LeakSanitizer's 23, ASan's 1 is told apart by its report on stderr.
    # This holds for every scenario, including those that leave exit open.
    if exit_code not in (0, 1, 2, 3):
        failures.append(("contract: smtpcheck exits 0, 1, 2 or 3",
                         f"exit code {exit_code}"))
    lines = stdout.splitlines()
    if lines and lines[0].startswith("SMTPCHECK "):
        # The first line speaks for the whole run, one host or several: a
        # monitoring engine reads it and the exit code, nothing else.
        if not STATUS_LINE.match(lines[0]):
            failures.append(("contract: strict Nagios status line",
                             f"first line does not match: {lines[0][:300]!r}"))
        else:
            state = lines[0].split()[1]
            if exit_code in (0, 1, 2, 3) and STATUS_CODE[state] != exit_code:
                failures.append(("contract: status line matches the exit code",
                                 f"{state} but exit {exit_code}"))
    failures += width_checks(lines, args)
    if "--json" in args:
        docs = [l for l in lines if l.strip()]
        states = []
        for n, line in enumerate(docs, 1):
            try:
                doc = json.loads(line)
            except ValueError as exc:
                failures.append(("contract: every --json line is JSON", f"line {n}: {exc}"))
                continue
            if isinstance(doc, dict) and "input" in doc:
                miss = sorted(EXPLAIN_KEYS - set(doc))
                if miss:
                    failures.append(("contract: --explain JSON fields",
                                     f"missing {', '.join(miss)}"))
            elif isinstance(doc, dict):
                # Host documents and error documents alike: one without
                # "ports" is a broken one, not one to skip.
                problems = validate_host_json(doc, exit_code if len(docs) == 1 else None)
                if problems:
                    failures.append(("contract: JSON fields of the product contract",
                                     "; ".join(problems[:8])))
                if doc.get("status") in STATUS_CODE:
                    states.append(doc["status"])
        # Several hosts: the exit code is the worst state (CRITICAL, then
        # UNKNOWN, then WARNING, then OK), when every line is a host's.
        if len(states) > 1 and len(states) == len(docs) and exit_code in (0, 1, 2, 3):
            worst = max(states, key=STATE_RANK.index)
            if STATUS_CODE[worst] != exit_code:
                failures.append(("contract: the exit code is the worst host's state",
                                 f"worst {worst} but exit {exit_code}"))
    if "--prometheus" in args:
        failures += prometheus_checks(lines)
    return failures
