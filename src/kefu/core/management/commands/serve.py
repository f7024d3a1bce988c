import signal
import subprocess
import sys

from django.conf import settings
from django.core.management.base import BaseCommand

from kefu.core.management.commands.init import print_demo_logins


class Command(BaseCommand):
    help = "Serve the web UI and API (waitress) with the job consumer alongside, in one command."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=settings.PORT, help="default KEFU_PORT or 8000")
        parser.add_argument("--threads", type=int, default=8)
        parser.add_argument("--no-worker", action="store_true", help="do not start a job consumer")

    def handle(self, *args, host, port, threads, no_worker, **options):
        from waitress import serve

        from kefu.wsgi import application

        worker = None
        if not no_worker:
            worker = subprocess.Popen([sys.executable, "-m", "kefu", "worker"])  # noqa: S603 (our own module)

        def _stop(signum, frame):
            raise SystemExit(0)

        signal.signal(signal.SIGTERM, _stop)
        self.stdout.write(f"Kefu 已启动 / running at http://{host}:{port}/")
        print_demo_logins(self.stdout)
        try:
            serve(application, host=host, port=port, threads=threads, ident="kefu")
        finally:
            if worker is not None and worker.poll() is None:
                worker.terminate()
                try:
                    worker.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    worker.kill()
