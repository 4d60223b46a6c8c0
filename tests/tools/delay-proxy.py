#!/usr/bin/env python3
"""delay-proxy.py - a TCP proxy that holds every chunk for D ms, both ways.

Measures nothing itself: it makes round trips expensive, so a client's
elapsed time divided by 2*D counts the round trips it waited for. Each
mapping LISTEN=TARGET accepts on LISTEN, connects to TARGET, and forwards
every chunk read from either side after D ms, in order (a half-close and a
close are delayed the same way), so one request/reply costs 2*D.

The TCP handshake with the client is done by the kernel at once: a connect
costs no round trip here (the upstream connect is not delayed either).
Both sockets have TCP_NODELAY, and every read is acknowledged at once
(TCP_QUICKACK), so the proxy adds no Nagle / delayed-ACK stall of its own.
--nagle leaves Nagle's algorithm on toward the client instead, as some
servers do (Postfix): a client that delays its ACKs then waits 40 ms more
for the second of two small writes (TLS session tickets, then a reply).

    delay-proxy.py --delay-ms 50 127.0.0.2:25=127.0.0.1:25 127.0.0.2:587=127.0.0.1:587

Prints "READY" on stdout once every mapping listens; stops on SIGTERM,
SIGINT, or when stdin ends (--watch-stdin). Loopback addresses only.
"""
import argparse
import asyncio
import collections
import ipaddress
import signal
import socket
import sys


def parse_endpoint(text):
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"'{text}': expected ADDR:PORT")
    host = host.strip("[]")
    if not ipaddress.ip_address(host).is_loopback:
        raise ValueError(f"'{text}': loopback addresses only")
    return host, int(port)


def tune(transport, nodelay=True):
    sock = transport.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1 if nodelay else 0)
        except OSError:
            pass
    return sock


class Pipe:
    """One direction: chunks wait until their time, then go out in order."""

    def __init__(self, loop, delay):
        self.loop = loop
        self.delay = delay
        self.dst = None                    # the transport written to
        self.queue = collections.deque()   # (due, bytes | None: EOF | b"": close)
        self.timer = None
        self.done = False

    def push(self, data):
        self.queue.append((self.loop.time() + self.delay, data))
        if self.timer is None and self.dst is not None:
            self.timer = self.loop.call_at(self.queue[0][0], self.release)

    def attach(self, dst):
        self.dst = dst
        if self.queue and self.timer is None:
            self.timer = self.loop.call_at(self.queue[0][0], self.release)

    def release(self):
        self.timer = None
        now = self.loop.time()
        while self.queue and self.queue[0][0] <= now + 0.0002:
            _due, data = self.queue.popleft()
            if self.done:
                continue
            try:
                if data is None:
                    if self.dst.can_write_eof():
                        self.dst.write_eof()
                elif data == b"":
                    self.done = True
                    self.dst.close()
                else:
                    self.dst.write(data)
            except (OSError, RuntimeError):
                self.done = True
        if self.queue:
            self.timer = self.loop.call_at(self.queue[0][0], self.release)


class Side(asyncio.Protocol):
    """One socket of a proxied connection; what it reads goes into `out`."""

    def __init__(self, out, nodelay=True):
        self.out = out
        self.nodelay = nodelay
        self.sock = None
        self.transport = None

    def connection_made(self, transport):
        self.transport = transport
        self.sock = tune(transport, self.nodelay)

    def data_received(self, data):
        if self.sock is not None and hasattr(socket, "TCP_QUICKACK"):
            try:
                self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
            except OSError:
                pass
        self.out.push(data)

    def eof_received(self):
        self.out.push(None)
        return True   # keep the other direction open (half-close)

    def connection_lost(self, exc):
        self.out.push(b"")


class Client(Side):
    def __init__(self, target, delay, nagle):
        loop = asyncio.get_running_loop()
        self.to_server = Pipe(loop, delay)
        self.to_client = Pipe(loop, delay)
        super().__init__(self.to_server, nodelay=not nagle)
        self.target = target

    def connection_made(self, transport):
        super().connection_made(transport)
        self.to_client.attach(transport)
        asyncio.get_running_loop().create_task(self.connect_upstream())

    async def connect_upstream(self):
        loop = asyncio.get_running_loop()
        try:
            upstream, _proto = await loop.create_connection(
                lambda: Side(self.to_client), *self.target)
        except OSError:
            self.transport.abort()
            return
        self.to_server.attach(upstream)


async def main_async(args):
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if args.watch_stdin:
        loop.add_reader(0, lambda: (sys.stdin.buffer.read1(4096) or stop.set()))
    delay = args.delay_ms / 1000.0
    servers = []
    for listen, target in args.maps:
        servers.append(await loop.create_server(
            lambda t=target: Client(t, delay, args.nagle), host=listen[0], port=listen[1],
            reuse_address=True, backlog=1024))
    print("READY", flush=True)
    await stop.wait()
    for s in servers:
        s.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--delay-ms", type=float, required=True,
                    help="how long each chunk is held, each way")
    ap.add_argument("--nagle", action="store_true",
                    help="leave Nagle's algorithm on toward the client")
    ap.add_argument("--watch-stdin", action="store_true",
                    help="exit when stdin reaches end-of-file")
    ap.add_argument("mapping", nargs="+", help="LISTEN_ADDR:PORT=TARGET_ADDR:PORT")
    args = ap.parse_args()
    args.maps = []
    for m in args.mapping:
        left, sep, right = m.partition("=")
        try:
            if not sep:
                raise ValueError(f"'{m}': expected LISTEN=TARGET")
            args.maps.append((parse_endpoint(left), parse_endpoint(right)))
        except ValueError as exc:
            ap.error(str(exc))
    try:
        asyncio.run(main_async(args))
    except OSError as exc:
        print(f"delay-proxy: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
