"""The demo worker: processes a (pretend) job every INTERVAL_SECONDS and logs it as JSON."""
import json
import os
import socket
import time

interval = float(os.environ.get("INTERVAL_SECONDS", "5"))
n = 0
while True:
    n += 1
    print(json.dumps({"msg": "processed job", "job": n, "pod": socket.gethostname()}), flush=True)
    time.sleep(interval)
