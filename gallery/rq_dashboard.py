"""django-rq's dashboard at /admin/rq/, for superusers only, with the CSP its templates need.

django-rq lets any staff account in, and its pages can empty a queue or delete jobs; moderators are staff. Its views
also index the queue list with the number in the address, so a made-up number would be an IndexError (a 500).
"""

from functools import wraps

from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import re_path, reverse
from django_rq.settings import get_queues_list
from django_rq.urls import get_admin_urlpatterns, get_api_urlpatterns

INDEX_ARGUMENTS = ("queue_index", "scheduler_index", "connection_index")


def superusers_only(view):
    # django-rq's templates carry inline scripts and styles: allowed on these pages alone.
    view = csp_update({"script-src": [UNSAFE_INLINE], "style-src": [UNSAFE_INLINE]})(view)

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("admin:login"))
        if not (request.user.is_active and request.user.is_superuser):
            raise PermissionDenied
        queues = len(get_queues_list())
        if any(kwargs.get(name, 0) >= queues for name in INDEX_ARGUMENTS):
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


urlpatterns = [
    *get_admin_urlpatterns(view_wrapper=superusers_only),
    # The JSON statistics accept an API token instead of a session; no RQ_API_TOKEN is set, so superusers only too.
    *[re_path(p.pattern.regex.pattern, superusers_only(p.callback), name=p.name) for p in get_api_urlpatterns()],
]
