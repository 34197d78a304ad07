"""Round-robin order in the RQ queue, so one user's burst of jobs cannot starve everyone else.

RQ runs its queue (a Redis list of job ids, front first) in order. After a job is pushed at the back, it is moved
to its fair place: the owner's k-th waiting job goes in front of every job that is some other owner's (k+1)-th or
later. So with user A's 50 jobs waiting, user B's first job runs second.
"""

from redis.exceptions import WatchError

from gallery.models import StyleJob

MAX_RETRIES = 20


def fair_position(waiting: list[str], job_id: str, owners: dict[str, int]) -> str | None:
    """The id the job should be placed in front of, or None to stay at the back.

    ``waiting`` is the queue front first, without ``job_id``; ``owners`` maps job ids to owner ids.
    """
    seen: dict[int, int] = {}
    for queued in waiting:
        owner = owners.get(queued)
        seen[owner] = seen.get(owner, 0) + 1
    turn = seen.get(owners[job_id], 0) + 1
    ranks: dict[int, int] = {}
    for queued in waiting:
        owner = owners.get(queued)
        ranks[owner] = ranks.get(owner, 0) + 1
        if ranks[owner] > turn:
            return queued
    return None


def interleave(queue, job_id: str) -> None:
    """Move a just-pushed job to its fair place. Workers may pop meanwhile: WATCH retries on any change."""
    for _ in range(MAX_RETRIES):
        with queue.connection.pipeline() as pipe:
            try:
                pipe.watch(queue.key)
                waiting = [item.decode() for item in pipe.lrange(queue.key, 0, -1)]
                if job_id not in waiting:
                    return
                waiting.remove(job_id)
                ids = [int(item) for item in [*waiting, job_id] if item.isdigit()]
                rows = StyleJob.objects.filter(pk__in=ids).values_list("pk", "owner_id")
                owners = {str(pk): owner for pk, owner in rows}
                pivot = fair_position(waiting, job_id, owners) if job_id in owners else None
                if pivot is None:
                    return
                pipe.multi()
                pipe.lrem(queue.key, 1, job_id)
                pipe.linsert(queue.key, "BEFORE", pivot, job_id)
                pipe.execute()
                return
            except WatchError:
                continue
