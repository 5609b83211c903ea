#!/usr/bin/python3
"""Traffic for scripts/demo, inside the demo's network namespaces only.

  serve NAME ADDR PORT SECONDS   a TCP server on ADDR:PORT that answers each
                                 request line with "hello from NAME"; exits
                                 by itself after SECONDS
  get ADDR PORT COUNT [HOLD]     COUNT connections one after another, one
                                 request each; prints who answered how often;
                                 then HOLD more connections kept open for
                                 a while (they show as ActiveConn)

Every loop is bounded in count and time.
"""
import collections
import socket
import sys
import threading
import time


def serve(name, addr, port, seconds):
    deadline = time.monotonic() + seconds
    s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(64)
    s.settimeout(1.0)
    def answer(conn):
        with conn:
            conn.settimeout(min(60.0, max(1.0, deadline - time.monotonic())))
            try:
                if conn.recv(1024):
                    conn.sendall(f"hello from {name}\n".encode())
            except OSError:
                pass

    while time.monotonic() < deadline:
        try:
            conn, _ = s.accept()
        except socket.timeout:
            continue
        threading.Thread(target=answer, args=(conn,), daemon=True).start()


def get(addr, port, count, hold):
    answers = collections.Counter()
    for _ in range(count):
        with socket.create_connection((addr, port), timeout=5.0) as c:
            c.sendall(b"GET /\n")
            answers[c.recv(1024).decode().strip() or "(no answer)"] += 1
    for who, n in sorted(answers.items()):
        print(f"  {n:3} x {who}")
    held = [socket.create_connection((addr, port), timeout=5.0) for _ in range(hold)]
    if held:
        print("held", flush=True)
    return held


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve(sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5]))
    elif sys.argv[1] == "get":
        held = get(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]) if len(sys.argv) > 5 else 0)
        if held:
            # Keep them open in the background while the demo lists; bounded.
            sys.stdout.flush()
            time.sleep(float(sys.argv[6]) if len(sys.argv) > 6 else 30)
