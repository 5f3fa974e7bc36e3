"""Demo stand-in for the Alluxio 1.2.0 daemons (written for this project, standard library only).

    python3 alluxio-standin.py -Dalluxio.home=... [-Dkey=value ...] CLASS

CLASS alluxio.master.AlluxioMaster: refuses to start on an unformatted journal; takes worker
heartbeats on 19998; serves the web UI on 19999 with /home (live workers, HTML) and the REST
calls /v1/api/master/worker_count and /v1/api/master/worker_info_list.

CLASS alluxio.worker.AlluxioWorker: needs its RAM folder; listens on 29998 (RPC), 29999 (data)
and 30000 (web, /home); registers with the master named by alluxio.master.hostname and sends a
heartbeat every second. A worker is live while its last heartbeat is at most 5 seconds old.
"""

from __future__ import annotations

import glob
import http.server
import json
import os
import socket
import socketserver
import sys
import threading
import time

MASTER_RPC, MASTER_WEB = 19998, 19999
WORKER_RPC, WORKER_DATA, WORKER_WEB = 29998, 29999, 30000
HEARTBEAT_SECONDS, LIVE_SECONDS = 1.0, 5.0


def log(message: str) -> None:
    print(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {message}", flush=True)


class Web(http.server.ThreadingHTTPServer):
    allow_reuse_address = True
    daemon_threads = True


class Rpc(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


def serve(server: socketserver.BaseServer) -> None:
    threading.Thread(target=server.serve_forever, daemon=True).start()


def run_master(props: dict[str, str]) -> None:
    journal = props.get("alluxio.master.journal.folder", "")
    if not glob.glob(os.path.join(journal, "_format_*")):
        log(f"ERROR journal {journal} is not formatted: run 'alluxio format' first")
        sys.exit(1)
    seen: dict[str, float] = {}
    lock = threading.Lock()

    def live() -> dict[str, float]:
        now = time.time()
        with lock:
            return {h: now - t for h, t in sorted(seen.items()) if now - t <= LIVE_SECONDS}

    class Heartbeats(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            for raw in self.rfile:
                words = raw.decode(errors="replace").split()
                if len(words) == 2 and words[0] in ("REGISTER", "HEARTBEAT"):
                    with lock:
                        if words[1] not in seen or words[0] == "REGISTER":
                            log(f"INFO worker {words[1]} registered")
                        seen[words[1]] = time.time()
                    self.wfile.write(b"OK\n")

    class Pages(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            workers = live()
            if self.path == "/v1/api/master/worker_count":
                self.reply("application/json", json.dumps(len(workers)))
            elif self.path == "/v1/api/master/worker_info_list":
                info = [{"address": {"host": h}, "lastContactSec": int(a)} for h, a in workers.items()]
                self.reply("application/json", json.dumps(info))
            elif self.path in ("/", "/home"):
                rows = "".join(f"<tr><td>{h}</td><td>{a:.0f}s</td></tr>" for h, a in workers.items())
                self.reply(
                    "text/html",
                    f"<html><head><title>Alluxio Master</title></head><body>"
                    f"<h1>Alluxio Master (demo stand-in) 1.2.0</h1>"
                    f"<p>Running Workers: {len(workers)}</p>"
                    f"<table><tr><th>Node</th><th>Last heartbeat</th></tr>{rows}</table>"
                    f"</body></html>",
                )
            else:
                self.send_error(404)

        def reply(self, kind: str, body: str) -> None:
            data = body.encode()
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    serve(Rpc(("0.0.0.0", MASTER_RPC), Heartbeats))
    web = Web(("0.0.0.0", MASTER_WEB), Pages)
    log(f"INFO Alluxio master started: rpc {MASTER_RPC}, web {MASTER_WEB}, journal {journal}")
    web.serve_forever()


def run_worker(props: dict[str, str]) -> None:
    folder = props.get("alluxio.worker.data.folder", "/mnt/ramdisk")
    if not os.path.isdir(folder):
        log(f"ERROR worker data folder {folder} does not exist (not mounted?)")
        sys.exit(1)
    master = props.get("alluxio.master.hostname", "localhost")
    me = socket.gethostname()

    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = f"<html><body><h1>Alluxio Worker {me}</h1><p>master {master}</p></body></html>"
            data = body.encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    for port in (WORKER_RPC, WORKER_DATA):
        serve(Rpc(("0.0.0.0", port), socketserver.StreamRequestHandler))
    serve(Web(("0.0.0.0", WORKER_WEB), Page))
    log(f"INFO Alluxio worker {me} started, master {master}:{MASTER_RPC}")
    verb = "REGISTER"
    while True:
        try:
            with socket.create_connection((master, MASTER_RPC), timeout=5) as conn:
                stream = conn.makefile("rwb")
                while True:
                    stream.write(f"{verb} {me}\n".encode())
                    stream.flush()
                    if not stream.readline():
                        raise ConnectionError("master closed the connection")
                    verb = "HEARTBEAT"
                    time.sleep(HEARTBEAT_SECONDS)
        except OSError as exc:
            log(f"WARN cannot reach master {master}:{MASTER_RPC}: {exc}")
            verb = "REGISTER"
            time.sleep(HEARTBEAT_SECONDS)


def main(argv: list[str]) -> None:
    props = dict(a[2:].split("=", 1) for a in argv if a.startswith("-D") and "=" in a)
    classes = [a for a in argv if not a.startswith("-D")]
    if classes == ["alluxio.master.AlluxioMaster"]:
        run_master(props)
    elif classes == ["alluxio.worker.AlluxioWorker"]:
        run_worker(props)
    else:
        known = "alluxio.master.AlluxioMaster|alluxio.worker.AlluxioWorker"
        sys.exit(f"usage: {sys.argv[0]} -Dkey=value... {known}")


if __name__ == "__main__":
    main(sys.argv[1:])
