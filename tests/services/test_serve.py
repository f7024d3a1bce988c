"""`kefu serve` runs the web server and the job consumer together, as `make run` does."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_serve_answers_http_and_starts_the_consumer(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KEFU_", "DJANGO_"))}
    env["KEFU_DATA_DIR"] = str(tmp_path)
    kefu = [sys.executable, "-m", "kefu"]
    subprocess.run([*kefu, "migrate", "-v0"], env=env, check=True, timeout=300)  # noqa: S603
    port = _free_port()
    server = subprocess.Popen(  # noqa: S603
        [*kefu, "serve", "--port", str(port)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        status = None
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=2) as response:  # noqa: S310
                    status = response.status
                break
            except OSError:
                time.sleep(0.2)
        assert status == 200
        # The consumer is a child process of the server: `kefu worker`.
        children = subprocess.run(  # noqa: S603
            ["ps", "-o", "args=", "--ppid", str(server.pid)],
            capture_output=True,
            text=True,  # noqa: S607
        ).stdout
        assert "kefu worker" in children
    finally:
        server.send_signal(signal.SIGTERM)
        output, _ = server.communicate(timeout=30)
    assert f"http://127.0.0.1:{port}/" in output
