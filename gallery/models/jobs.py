"""Styles, uploads and the jobs that paint with them."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from gallery.models.base import Hideable, preset_preview_path, source_image_path, source_thumbnail_path


class IllegalTransitionError(Exception):
    """A StyleJob was asked to move to a status that its current status does not allow."""


class Preset(models.Model):
    """A mirror of one stylecore preset, so pages can list styles without loading the engine."""

    name = models.SlugField(max_length=80, unique=True)
    title = models.CharField(max_length=200)
    artist = models.CharField(max_length=200, blank=True)
    year = models.CharField(max_length=40, blank=True)
    source = models.CharField(max_length=500, blank=True)
    preview = models.FileField(upload_to=preset_preview_path, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return f"{self.title} ({self.artist})" if self.artist else self.title


class SourceImage(Hideable):
    """An uploaded picture, cleaned of metadata: a content photo or a style image."""

    class Kind(models.TextChoices):
        CONTENT = "content", "Content photo"
        STYLE = "style", "Style image"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="source_images")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    file = models.FileField(upload_to=source_image_path)
    # Style images only: what My styles shows, at most THUMBNAIL_SIDE px a side (the file is the upload's full size).
    thumbnail = models.FileField(upload_to=source_thumbnail_path, blank=True)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    original_name = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Style images only: a 64-bit perceptual hash (16 hex digits), and the credit the uploader gives the work.
    perceptual_hash = models.CharField(max_length=16, blank=True, db_index=True)
    title = models.CharField(max_length=200, blank=True, help_text="The work's title, if it has one.")
    artist = models.CharField(max_length=200, blank=True)
    source = models.URLField(max_length=500, blank=True, help_text="Where the work comes from, e.g. a museum page.")
    licence = models.CharField(max_length=200, blank=True, help_text="e.g. public domain, CC BY 4.0, my own work")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    def stored_files(self) -> list:
        """The stored upload and, for a style image, its thumbnail."""
        return [field for field in (self.file, self.thumbnail) if field]

    @property
    def credit_label(self) -> str:
        """The credited work ("Title (Artist)", "After Artist"), or a neutral label when the uploader gave none."""
        if self.title:
            return f"{self.title} ({self.artist})" if self.artist else self.title
        return f"After {self.artist}" if self.artist else "An uploaded style"


class StyleJob(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"
        CANCELED = "canceled", "Canceled"

    class Method(models.TextChoices):
        FAST = "fast", "Fast (trained network)"
        OPTIMIZE = "optimize", "Optimisation (slow)"
        ARBITRARY = "arbitrary", "Arbitrary style (any image)"

    FINISHED = (Status.DONE, Status.FAILED, Status.CANCELED)

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="style_jobs")
    content = models.ForeignKey(SourceImage, on_delete=models.PROTECT, related_name="content_jobs")
    # The styles are JobStyle rows (job.styles), one to four.
    method = models.CharField(max_length=12, choices=Method.choices, default=Method.ARBITRARY)
    strength = models.FloatField(default=1.0)
    preserve_color = models.BooleanField(default=False)
    max_side = models.PositiveIntegerField(default=1024)
    # Arbitrary method only: the size at which the styles are encoded (sets their brush-stroke size).
    style_scale = models.PositiveIntegerField(default=512)

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED, db_index=True)
    progress = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    worker_id = models.CharField(max_length=200, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # When the row last became queued: recovery leaves a row alone this long before it counts its RQ job as lost,
    # since the web enqueues only after its transaction commits.
    queued_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=models.Q(progress__lte=100), name="stylejob_progress_0_100"),
        ]

    def __str__(self) -> str:
        return f"StyleJob #{self.pk} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED

    @property
    def style_label(self) -> str:
        """The styles' credited names, joined; reads the prefetched rows when there are any."""
        return " + ".join(style.label for style in self.styles.all())

    def _transition(self, allowed_from: tuple[str, ...], extra_filter: dict | None = None, **changes) -> None:
        # A conditional UPDATE, not read-then-save: a cancel in the web process and a
        # worker picking the job up can race, and exactly one of them must win.
        updated = type(self).objects.filter(pk=self.pk, status__in=allowed_from, **(extra_filter or {})).update(
            **changes
        )
        if updated != 1:
            current = type(self).objects.filter(pk=self.pk).values_list("status", flat=True).first()
            raise IllegalTransitionError(
                f"StyleJob #{self.pk} cannot become {changes['status']} from {current or 'deleted'}."
            )
        self.refresh_from_db(fields=list(changes))

    def mark_running(self, worker_id: str) -> None:
        self._transition(
            (self.Status.QUEUED,),
            status=self.Status.RUNNING,
            worker_id=worker_id,
            progress=0,
            attempts=models.F("attempts") + 1,
            started_at=timezone.now(),
        )

    def mark_done(self) -> None:
        self._transition(
            (self.Status.RUNNING,), status=self.Status.DONE, progress=100, finished_at=timezone.now()
        )

    def mark_failed(self, message: str) -> None:
        self._transition(
            (self.Status.QUEUED, self.Status.RUNNING),
            status=self.Status.FAILED,
            error=message,
            finished_at=timezone.now(),
        )

    def mark_canceled(self) -> None:
        self._transition((self.Status.QUEUED,), status=self.Status.CANCELED, finished_at=timezone.now())

    def mark_requeued(self, *, refund_attempt: bool = False) -> None:
        """Give a job whose run ended unfinished another go. Only that run's worker's claim is released.

        ``refund_attempt``: the run was stopped from outside (a clean shutdown, a lost database), so it does not count.
        """
        self._transition(
            (self.Status.RUNNING,),
            extra_filter={"worker_id": self.worker_id},
            status=self.Status.QUEUED,
            worker_id="",
            progress=0,
            started_at=None,
            queued_at=timezone.now(),
            **({"attempts": models.F("attempts") - 1} if refund_attempt else {}),
        )

    def mark_retried(self) -> None:
        """Put a failed job back in the queue, as new: staff retry it from the admin."""
        self._transition(
            (self.Status.FAILED,),
            status=self.Status.QUEUED,
            error="",
            worker_id="",
            progress=0,
            attempts=0,
            started_at=None,
            finished_at=None,
            queued_at=timezone.now(),
        )

    def record_progress(self, percent: int) -> None:
        percent = max(0, min(99, percent))
        type(self).objects.filter(pk=self.pk, status=self.Status.RUNNING).update(progress=percent)
        self.progress = percent


MAX_STYLES_PER_JOB = 4  # the any-style network blends at most four styles (stylecore.arbitrary.MAX_STYLES)


class JobStyle(models.Model):
    """One of a job's one to four styles: a preset or an uploaded style image, with its share of the blend."""

    MAX_PER_JOB = MAX_STYLES_PER_JOB

    job = models.ForeignKey(StyleJob, on_delete=models.CASCADE, related_name="styles")
    position = models.PositiveSmallIntegerField()
    preset = models.ForeignKey(Preset, null=True, blank=True, on_delete=models.PROTECT, related_name="job_styles")
    image = models.ForeignKey(
        SourceImage, null=True, blank=True, on_delete=models.PROTECT, related_name="job_styles"
    )
    weight = models.FloatField(default=1.0, help_text="The style's share of the blend; a job's shares sum to 1.")

    class Meta:
        ordering = ["position"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(preset__isnull=False) ^ models.Q(image__isnull=False), name="jobstyle_preset_or_image"
            ),
            models.UniqueConstraint(fields=["job", "position"], name="jobstyle_one_per_position"),
            models.CheckConstraint(condition=models.Q(position__lt=MAX_STYLES_PER_JOB), name="jobstyle_at_most_four"),
            models.CheckConstraint(condition=models.Q(weight__gt=0, weight__lte=1), name="jobstyle_weight_is_a_share"),
        ]

    def __str__(self) -> str:
        return f"{self.label} ({self.weight:.0%})"

    @property
    def label(self) -> str:
        return str(self.preset) if self.preset_id else self.image.credit_label
