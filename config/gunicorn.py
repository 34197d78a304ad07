"""gunicorn hooks of the web role (``scripts.run`` passes ``--config python:config.gunicorn``)."""

from prometheus_client import multiprocess


def child_exit(server, worker):
    """A gunicorn process that exits leaves its metric files in PROMETHEUS_MULTIPROC_DIR; its counters and histograms
    still count, its live gauges must go (prometheus_client's multiprocess mode, "gunicorn" in its docs)."""
    multiprocess.mark_process_dead(worker.pid)
