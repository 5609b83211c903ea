#!/usr/bin/python3
"""Real servers and clients for the kernel traffic tests (run inside network
namespaces of the lab guest, never on a real network).

  serve   --name NAME --bind ADDR [--bind ADDR...] --port P [--port P...] --deadline SECS
          TCP and UDP on every ADDR:P. Each TCP line and each UDP datagram is
          answered with NAME (a line for TCP), so the client knows who answered.
          Prints "ready" once bound; exits by itself after SECS.
  client  [--deadline SECS]
          A client agent: reads one JSON command per line on stdin and prints
          one JSON reply per line; exits on EOF or after SECS.
          {"op": "request", "proto": "tcp"|"udp", "dst", "port", "count", "sport",
           "src", "payload", "timeout"}: COUNT requests one after another,
           request i from source port SPORT+i (fresh ports: each is a new IPVS
           connection). TCP: connect, send the payload line, read one answer
           line, close. UDP: one datagram, one answer. Reply {"answers": [...]},
           null for a request not answered.
          {"op": "hold", "id", "dst", "port", "sport", "src"}: opens a TCP
           connection and keeps it; {"op": "send", "id", "line"} sends a line
           on it, reply {"answer": ...}; {"op": "close", "id"} closes it
           ({"reset": true}: with a RST, SO_LINGER 0, so IPVS's entry goes to
           CLOSE and expires in about 10 s instead of TIME_WAIT's 2 minutes).

Every loop is bounded in count and time.
"""
import argparse
import json
import selectors
import signal
import socket
import struct
import sys
import time


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def serve(args):
    deadline = time.monotonic() + args.deadline
    name = args.name.encode()
    sel = selectors.DefaultSelector()
    for addr in args.bind:
        for port in args.port:
            t = socket.socket(family(addr), socket.SOCK_STREAM)
            t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            t.bind((addr, port))
            t.listen(128)
            t.setblocking(False)
            sel.register(t, selectors.EVENT_READ, "listen")
            u = socket.socket(family(addr), socket.SOCK_DGRAM)
            u.bind((addr, port))
            u.setblocking(False)
            sel.register(u, selectors.EVENT_READ, "udp")
    print("ready", flush=True)
    pending = {}
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return
        for key, _ in sel.select(timeout=min(left, 1.0)):
            sock = key.fileobj
            if key.data == "listen":
                try:
                    conn, _ = sock.accept()
                except BlockingIOError:
                    continue
                conn.setblocking(False)
                pending[conn] = b""
                sel.register(conn, selectors.EVENT_READ, "conn")
            elif key.data == "udp":
                try:
                    _, peer = sock.recvfrom(65535)
                except BlockingIOError:
                    continue
                sock.sendto(name, peer)
            else:
                try:
                    data = sock.recv(65535)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    data = b""
                if not data:
                    sel.unregister(sock)
                    pending.pop(sock, None)
                    sock.close()
                    continue
                buf = pending[sock] + data
                lines = buf.count(b"\n")
                pending[sock] = buf[buf.rfind(b"\n") + 1 :]
                if lines:
                    sock.setblocking(True)
                    sock.sendall((name + b"\n") * lines)
                    sock.setblocking(False)


def bound_socket(family_of, src, kind, port):
    s = socket.socket(family(family_of), kind)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((src or "", port))
    return s


def read_line(sock):
    buf = b""
    while not buf.endswith(b"\n"):
        chunk = sock.recv(4096)
        if not chunk:
            break
        buf += chunk
    return buf.decode().strip() or None


def request(cmd):
    """cmd: proto, dst, port, count, sport, src, payload, timeout."""
    deadline = time.monotonic() + cmd.get("timeout", 30)
    payload = cmd.get("payload", "hello").encode()
    answers = []
    for i in range(cmd["count"]):
        left = deadline - time.monotonic()
        if left <= 0:
            answers.append(None)
            continue
        try:
            if cmd["proto"] == "tcp":
                s = bound_socket(cmd["dst"], cmd.get("src"), socket.SOCK_STREAM, cmd["sport"] + i)
                s.settimeout(min(left, 5.0))
                s.connect((cmd["dst"], cmd["port"]))
                s.sendall(payload + b"\n")
                answers.append(read_line(s))
                s.close()
            else:
                s = bound_socket(cmd["dst"], cmd.get("src"), socket.SOCK_DGRAM, cmd["sport"] + i)
                s.settimeout(min(left, 5.0))
                s.connect((cmd["dst"], cmd["port"]))
                s.send(payload)
                answers.append(s.recv(65535).decode())
                s.close()
        except OSError as e:
            print(f"request {i}: {e}", file=sys.stderr, flush=True)
            answers.append(None)
    return {"answers": answers}


def client(args):
    # SIGALRM ends the process at the deadline, even while blocked on stdin.
    signal.alarm(max(1, int(args.deadline)))
    held = {}
    for line in sys.stdin:
        cmd = json.loads(line)
        op = cmd["op"]
        try:
            if op == "request":
                reply = request(cmd)
            elif op == "hold":
                s = bound_socket(cmd["dst"], cmd.get("src"), socket.SOCK_STREAM, cmd["sport"])
                s.settimeout(5.0)
                s.connect((cmd["dst"], cmd["port"]))
                held[cmd["id"]] = s
                reply = {"ok": True}
            elif op == "send":
                s = held[cmd["id"]]
                s.sendall((cmd["line"] + "\n").encode())
                reply = {"answer": read_line(s)}
            elif op == "close":
                s = held.pop(cmd["id"])
                if cmd.get("reset"):
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                s.close()
                reply = {"ok": True}
            else:
                reply = {"error": f"unknown op {op}"}
        except (OSError, KeyError) as e:
            reply = {"error": f"{op}: {e!r}"}
        print(json.dumps(reply), flush=True)
    for s in held.values():
        s.close()


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    sv = sub.add_parser("serve")
    sv.add_argument("--name", required=True)
    sv.add_argument("--bind", action="append", required=True)
    sv.add_argument("--port", action="append", type=int, required=True)
    sv.add_argument("--deadline", type=float, default=120)
    cl = sub.add_parser("client")
    cl.add_argument("--deadline", type=float, default=240)
    args = p.parse_args()
    {"serve": serve, "client": client}[args.cmd](args)


if __name__ == "__main__":
    main()
