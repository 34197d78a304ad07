"""The stylecore error family. Every message is written for the person who sees it."""


class StyleCoreError(Exception):
    """Base class: a job catches only these and shows the message to the user."""


class InvalidImageError(StyleCoreError):
    """An input image cannot be used (unreadable, too small, degenerate)."""


class CheckpointError(StyleCoreError):
    """A weights file is missing, corrupt, or does not fit the network."""


class BackboneMissingError(CheckpointError):
    """The VGG backbone file is missing; the message says how to get it."""


class UnknownPresetError(StyleCoreError):
    """A preset name that the weights folder does not hold."""


class InvalidOptionError(StyleCoreError):
    """An option outside its allowed range, or a combination that makes no sense."""


class MethodUnavailableError(StyleCoreError):
    """A stylization method whose weights are not installed."""
