"""Model assets pinned by SHA-256: each file read once, and refused if it is not the pinned one.

assets/*.npz --read_npz(path, sha256)--> {name: array}   (FormatError if the hash differs)
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import numpy as np

from ..errors import FormatError


def read_npz(path: Path, sha256: str, what: str) -> dict[str, np.ndarray]:
    """The arrays of the .npz at ``path``, refused unless its SHA-256 is ``sha256``; ``what``
    names the asset in the error."""
    data = Path(path).read_bytes()
    if hashlib.sha256(data).hexdigest() != sha256:
        raise FormatError(f"{what} {path} does not match the pinned SHA-256")
    with np.load(io.BytesIO(data)) as z:
        return {k: z[k] for k in z.files}
