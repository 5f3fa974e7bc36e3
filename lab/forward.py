"""A forward from the machine's loopback into the lab, for a browser: the listening socket is on
127.0.0.1 in the machine's own namespace (nothing listens for the lab on its addresses), and
each connection is carried by a process in the control namespace that opens the lab connection
there, so no packet to a lab address leaves the machine's own namespace."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading

from lab.lab import Lab


def serve(lab: Lab, host: str, port: int, local_port: int) -> None:
    """Accept on 127.0.0.1:``local_port`` until interrupted; each connection becomes one
    :func:`pipe` to ``host``:``port`` in the control namespace, its stdin and stdout."""
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the pipes' exits reap themselves
    with socket.create_server(("127.0.0.1", local_port)) as listener:
        print(f"forwarding http://127.0.0.1:{local_port}/ to {host}:{port} in the lab; Ctrl-C ends it")
        while True:
            conn, _ = listener.accept()
            with conn:
                argv = lab.run_argv([sys.executable, "-m", "lab.forward", host, str(port)])
                subprocess.Popen(argv, stdin=conn.fileno(), stdout=conn.fileno())


def pipe(host: str, port: int) -> None:
    """Copy stdin to a connection to ``host``:``port`` and the connection to stdout."""
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.settimeout(None)

        def upstream() -> None:
            while data := sys.stdin.buffer.read1(65536):
                sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)

        threading.Thread(target=upstream, daemon=True).start()
        while data := sock.recv(65536):
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()


if __name__ == "__main__":
    pipe(sys.argv[1], int(sys.argv[2]))
