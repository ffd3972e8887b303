"""The errors aigic raises to its users: each is a ``ValueError`` that quotes the bad value."""

from __future__ import annotations


class AigicError(ValueError):
    """Base class of every error aigic reports to a user in one line."""


class FormatError(AigicError):
    """A bitstream is malformed, damaged, truncated or of an unsupported version."""


class ImageInputError(AigicError):
    """An input image cannot be read, or is refused (too large, not an image)."""


class BackendUnavailable(AigicError):
    """A decoder backend cannot run here (missing weights or packages); the message says why."""


class ModelUnavailable(AigicError):
    """A neural front-end's weights (PiDiNet, OpenPose, BLIP) are missing; the message says which."""
