import logging

from django.core.management.base import BaseCommand
from django.utils.module_loading import autodiscover_modules


class Command(BaseCommand):
    help = "Run the job consumer (Huey) alone, e.g. on extra machines when scaling out."

    def add_arguments(self, parser):
        parser.add_argument("-w", "--workers", type=int, default=2)
        parser.add_argument(
            "--no-periodic",
            action="store_true",
            help="do not run periodic jobs here (run them in exactly one consumer when you start several)",
        )

    def handle(self, *args, workers, no_periodic, **options):
        from huey.contrib.djhuey import HUEY

        import kefu.schedule  # noqa: F401  (registers the periodic jobs)

        autodiscover_modules("tasks")
        logger = logging.getLogger("huey")
        logger.setLevel(logging.INFO)
        self.stdout.write(f"Kefu 任务进程启动：{type(HUEY.storage).__name__}，{workers} 个线程")
        consumer = HUEY.create_consumer(workers=workers, worker_type="thread", periodic=not no_periodic)
        consumer.run()
