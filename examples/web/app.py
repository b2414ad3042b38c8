"""The demo web app: answers every path with a greeting and the pod's name; /healthz for probes."""
import http.server
import os
import socket

GREETING = os.environ.get("GREETING", "Hello")


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/healthz":
            body = b"ok\n"
        else:
            body = f"{GREETING} from {socket.gethostname()}\n".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        print(f"{self.address_string()} {fmt % args}", flush=True)


http.server.ThreadingHTTPServer(("0.0.0.0", 8000), Handler).serve_forever()
