"""StyleJob owns its state: every legal transition works, every illegal one raises."""

import pytest

from gallery.models import IllegalTransitionError, StyleJob

pytestmark = pytest.mark.django_db

S = StyleJob.Status


def _job_in(make_job, owner, status) -> StyleJob:
    job = make_job(owner)
    StyleJob.objects.filter(pk=job.pk).update(status=status, worker_id="w1" if status == S.RUNNING else "")
    job.refresh_from_db()
    return job


TRANSITIONS = {
    "mark_running": (lambda job: job.mark_running("worker-a"), {S.QUEUED}, S.RUNNING),
    "mark_done": (lambda job: job.mark_done(), {S.RUNNING}, S.DONE),
    "mark_failed": (lambda job: job.mark_failed("boom"), {S.QUEUED, S.RUNNING}, S.FAILED),
    "mark_canceled": (lambda job: job.mark_canceled(), {S.QUEUED}, S.CANCELED),
    "mark_requeued": (lambda job: job.mark_requeued(), {S.RUNNING}, S.QUEUED),
}
CASES = [(name, start) for name in TRANSITIONS for start in S.values]


@pytest.mark.parametrize(("method", "start"), CASES, ids=[f"{m}-from-{s}" for m, s in CASES])
def test_it_allows_only_legal_transitions(method, start, owner, make_job):
    action, allowed_from, target = TRANSITIONS[method]
    job = _job_in(make_job, owner, start)

    if start in allowed_from:
        action(job)
        assert job.status == target
        assert StyleJob.objects.get(pk=job.pk).status == target
    else:
        with pytest.raises(IllegalTransitionError):
            action(job)
        assert StyleJob.objects.get(pk=job.pk).status == start


def test_it_records_the_worker_and_counts_attempts_when_running(owner, make_job):
    job = make_job(owner)
    job.mark_running("worker-a")
    assert (job.worker_id, job.attempts, job.progress) == ("worker-a", 1, 0)
    assert job.started_at is not None


def test_it_stamps_finished_jobs_and_keeps_the_error(owner, make_job):
    job = make_job(owner)
    job.mark_running("w")
    job.mark_failed("The style image is too small.")
    stored = StyleJob.objects.get(pk=job.pk)
    assert stored.error == "The style image is too small." and stored.finished_at is not None


def test_it_lets_only_one_of_two_racing_writers_win(owner, make_job):
    job = make_job(owner)
    web_copy, worker_copy = StyleJob.objects.get(pk=job.pk), StyleJob.objects.get(pk=job.pk)
    web_copy.mark_canceled()
    with pytest.raises(IllegalTransitionError):
        worker_copy.mark_running("w")
    assert StyleJob.objects.get(pk=job.pk).status == S.CANCELED


def test_it_requeues_only_the_claim_of_the_worker_it_saw(owner, make_job):
    job = _job_in(make_job, owner, S.RUNNING)
    StyleJob.objects.filter(pk=job.pk).update(worker_id="w2")
    with pytest.raises(IllegalTransitionError):
        job.mark_requeued()


def test_it_clamps_progress_and_ignores_it_once_finished(owner, make_job):
    job = make_job(owner)
    job.mark_running("w")
    job.record_progress(250)
    assert StyleJob.objects.get(pk=job.pk).progress == 99
    job.mark_done()
    job.record_progress(10)
    assert StyleJob.objects.get(pk=job.pk).progress == 100
