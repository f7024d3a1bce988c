"""Jobs run only after the transaction that asked for them commits."""

import pytest
from django.db import transaction
from huey.contrib.djhuey import HUEY, db_task

from kefu.jobs import enqueue_on_commit

RUNS: list[str] = []


@db_task()
def record_run(label):
    RUNS.append(label)


@pytest.fixture(autouse=True)
def _clear_runs():
    RUNS.clear()


@pytest.mark.django_db(transaction=True)
def test_task_enqueued_in_a_rolled_back_transaction_never_runs():
    with pytest.raises(RuntimeError), transaction.atomic():
        enqueue_on_commit(record_run, "rolled-back")
        raise RuntimeError("the write failed")
    assert RUNS == []
    assert HUEY.pending_count() == 0


@pytest.mark.django_db(transaction=True)
def test_task_enqueued_in_a_committed_transaction_runs_once_after_commit():
    with transaction.atomic():
        enqueue_on_commit(record_run, "committed")
        assert RUNS == []  # not before the commit
    assert RUNS == ["committed"]


@pytest.mark.django_db(transaction=True)
def test_task_not_enqueued_when_an_inner_savepoint_rolls_back():
    with transaction.atomic():
        enqueue_on_commit(record_run, "outer")
        try:
            with transaction.atomic():
                enqueue_on_commit(record_run, "inner")
                raise RuntimeError
        except RuntimeError:
            pass
    assert RUNS == ["outer"]


def test_queued_mode_stores_the_task_until_a_consumer_takes_it(tmp_path):
    """Outside immediate mode the task is stored, not run (what the consumer reads)."""
    from huey import SqliteHuey

    queue = SqliteHuey("kefu-test", filename=str(tmp_path / "q.sqlite3"))
    seen = []

    @queue.task()
    def remember(x):
        seen.append(x)

    remember(1)
    assert seen == [] and queue.pending_count() == 1
    task = queue.dequeue()
    queue.execute(task)
    assert seen == [1] and queue.pending_count() == 0


def test_redis_queue_stores_and_runs_a_task():
    """KEFU_REDIS_URL selects RedisHuey: the same task round-trips through a real Redis."""
    import redis
    from huey import RedisHuey

    url = "redis://127.0.0.1:6379/15"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    queue = RedisHuey("kefu-test", url=url)
    queue.flush()
    seen = []

    @queue.task()
    def remember(x):
        seen.append(x)

    remember(7)
    assert seen == [] and queue.pending_count() == 1
    queue.execute(queue.dequeue())
    assert seen == [7] and queue.pending_count() == 0
    queue.flush()
