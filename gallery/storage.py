"""File storage: writes that fail leave nothing behind, and what a failed write raises."""

import contextlib
import os

from botocore.exceptions import BotoCoreError, ClientError
from django.core.files.storage import FileSystemStorage

# What a storage raises when it cannot take a file: a full or read-only disk (OSError), an S3-compatible service
# that refuses or cannot be reached (botocore's errors, through django-storages).
STORAGE_ERRORS = (OSError, BotoCoreError, ClientError)


class WholeFileSystemStorage(FileSystemStorage):
    """Django's file system storage, except that a file is either written whole or not at all.

    Django's own ``_save`` creates the file (O_CREAT | O_EXCL) and then writes it; when the disk fills up or turns
    read-only meanwhile it raises and leaves the partial or zero-byte file behind, under a name no row records.
    """

    def _save(self, name, content):
        try:
            return super()._save(name, content)
        except OSError:
            # The name was free (get_available_name) and is a fresh random one, so a file there is this write's own.
            with contextlib.suppress(OSError):
                os.remove(self.path(name))
            raise
