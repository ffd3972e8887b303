"""The pose structure: OpenPose body keypoints, coded as quantized coordinates, not pixels.

    people (n, 18, 2) in 0..1 + presence (n, 18)
        --quantize to a (2^b x 2^b) lattice--> per person: presence bits, then each present
          keypoint as a delta from its nearest present ancestor in the skeleton tree
          (two-sided geometric model), or uniform when it has none --> range coder -> payload
    payload --> keypoints --render: OpenPose's limb colours and widths--> RGB skeleton image

The render is part of the format (it is what the pose adapter sees). Payload layout:
docs/FORMAT.md, "Pose".
Keypoint order is OpenPose's COCO-18: nose, neck, r-shoulder, r-elbow, r-wrist, l-shoulder,
l-elbow, l-wrist, r-hip, r-knee, r-ankle, l-hip, l-knee, l-ankle, r-eye, l-eye, r-ear, l-ear.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ..coding.symbols import Decoder, Encoder
from ..errors import FormatError
from ..format.codes import CHUNK_STRUCTURE, STRUCT_POSE_V1, STRUCTURE_KINDS
from ..format.limits import MAX_PEOPLE, POSE_BITS
from ..format.reader import Reader, varint

N_POINTS = 18
PARENT = (1, None, 1, 2, 3, 1, 5, 6, 1, 8, 9, 1, 11, 12, 0, 0, 14, 15)
ORDER = (1, 0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17)  # parents first
LIMBS = ((1, 2), (1, 5), (2, 3), (3, 4), (5, 6), (6, 7), (1, 8), (8, 9), (9, 10), (1, 11))
LIMBS += ((11, 12), (12, 13), (1, 0), (0, 14), (14, 16), (0, 15), (15, 17))
COLORS = (
    (255, 0, 0), (255, 85, 0), (255, 170, 0), (255, 255, 0), (170, 255, 0), (85, 255, 0),
    (0, 255, 0), (0, 255, 85), (0, 255, 170), (0, 255, 255), (0, 170, 255), (0, 85, 255),
    (0, 0, 255), (85, 0, 255), (170, 0, 255), (255, 0, 255), (255, 0, 170), (255, 0, 85),
)  # fmt: skip
BITS = 7  # default lattice: 128 x 128 (4 px at 512)
P_PRESENT = 0.8
DECAY = 0.85  # geometric delta model: P(|d|) ~ DECAY^|d| (in lattice units, scaled by bits)


def _delta_table(bits: int) -> np.ndarray:
    n = 1 << bits
    d = np.abs(np.arange(-(n - 1), n))
    decay = DECAY ** (2.0 ** (7 - bits))  # the same spatial spread whatever the lattice
    return np.maximum(decay**d, 1e-9)


def _ancestor(present: np.ndarray, k: int) -> int | None:
    p = PARENT[k]
    while p is not None and not present[p]:
        p = PARENT[p]
    return p


@dataclass(frozen=True)
class PoseLayer:
    """``points`` (n, 18, 2) integer lattice coordinates (x, y); ``present`` (n, 18) bool."""

    points: np.ndarray
    present: np.ndarray
    bits: int = BITS
    kind: str = "pose"
    name: ClassVar[str] = "structure"
    chunk_type: ClassVar[int] = CHUNK_STRUCTURE

    @classmethod
    def from_keypoints(cls, people, bits: int = BITS) -> PoseLayer:
        """``people``: per person 18 entries, each None or (x, y) in 0..1 image fractions."""
        n, top = len(people), (1 << bits) - 1
        points = np.zeros((n, N_POINTS, 2), dtype=np.int64)
        present = np.zeros((n, N_POINTS), dtype=bool)
        for i, person in enumerate(people):
            for k, kp in enumerate(list(person)[:N_POINTS]):
                if kp is not None:
                    x, y = (min(max(float(v), 0.0), 1.0) for v in kp[:2])
                    points[i, k] = round(x * top), round(y * top)
                    present[i, k] = True
        return cls(points, present, bits)

    def keypoints(self) -> list[list[tuple[float, float] | None]]:
        top = (1 << self.bits) - 1
        return [
            [tuple(p / top) if ok else None for p, ok in zip(pts, pres)]
            for pts, pres in zip(self.points, self.present)
        ]

    def _code(self, coder, decoding: bool):
        n, size = len(self.points), 1 << self.bits
        table = _delta_table(self.bits)
        points, present = self.points.copy(), self.present.copy()
        for i in range(n):
            if decoding:
                present[i] = coder.bits(np.full(N_POINTS, P_PRESENT)).astype(bool)
            else:
                coder.bits(present[i].astype(np.uint8), np.full(N_POINTS, P_PRESENT))
            for k in ORDER:
                if not present[i, k]:
                    continue
                a = _ancestor(present[i], k)
                for c in range(2):
                    if a is None and decoding:
                        points[i, k, c] = coder.uniform(size)
                    elif a is None:
                        coder.uniform(int(points[i, k, c]), size)
                    else:
                        lo = size - 1 - points[i, a, c]  # deltas that stay on the lattice
                        probs = table[lo : lo + size]
                        if decoding:
                            points[i, k, c] = coder.categorical(probs)
                        else:
                            coder.categorical(int(points[i, k, c]), probs)
        return points, present

    def to_payload(self) -> bytes:
        enc = Encoder()
        self._code(enc, decoding=False)
        head = bytes([STRUCT_POSE_V1, STRUCTURE_KINDS["pose"], self.bits])
        return head + varint(len(self.points)) + enc.to_bytes()

    @classmethod
    def from_payload(cls, payload: bytes) -> PoseLayer:
        r = Reader(payload)
        codec, kind, bits = r.take(3, "pose header")
        if codec != STRUCT_POSE_V1 or kind != STRUCTURE_KINDS["pose"]:
            raise FormatError(f"pose payload: unexpected codec {codec} / kind {kind}")
        lo, hi = POSE_BITS
        if not lo <= bits <= hi:
            raise FormatError(f"pose payload: {bits} bits per coordinate is outside {lo}..{hi}")
        n = r.varint("pose people count", MAX_PEOPLE)
        shell = cls(np.zeros((n, N_POINTS, 2), np.int64), np.zeros((n, N_POINTS), bool), bits)
        points, present = shell._code(Decoder(payload[r.pos :], "pose payload"), decoding=True)
        return cls(points, present, bits)

    # ---- what people and adapters see ----------------------------------------------------
    def adapter_input(self, size: tuple[int, int]):
        """What the openpose adapter receives: the skeleton at ``size``, an RGB image."""
        from PIL import Image

        return Image.fromarray(self.condition(size))

    @property
    def grid_size(self) -> tuple[int, int]:
        """(W, H) of the lattice the keypoints are coded on."""
        return (1 << self.bits, 1 << self.bits)

    @property
    def people(self) -> int:
        return len(self.points)

    def holds(self) -> str:
        return f"{self.people} people"

    def summary(self) -> str:
        return f"pose, {self.people} people"

    def condition(self, size: tuple[int, int]) -> np.ndarray:
        """The OpenPose skeleton image (RGB uint8, H x W x 3) on black, at ``size`` (W, H)."""
        import cv2

        w, h = size
        canvas = np.zeros((h, w, 3), dtype=np.uint8)
        top = (1 << self.bits) - 1
        stick = max(1, round(4 * min(w, h) / 512))
        for pts, pres in zip(self.points, self.present):
            xy = pts / top * np.array([w, h])
            for (a, b), color in zip(LIMBS, COLORS):
                if pres[a] and pres[b]:
                    (x0, y0), (x1, y1) = xy[a], xy[b]
                    length = float(np.hypot(x1 - x0, y1 - y0))
                    angle = int(np.degrees(np.arctan2(y0 - y1, x0 - x1)))
                    centre = (int((x0 + x1) / 2), int((y0 + y1) / 2))
                    poly = cv2.ellipse2Poly(centre, (int(length / 2), stick), angle, 0, 360, 1)
                    cv2.fillConvexPoly(canvas, poly, [int(c * 0.6) for c in color])
            for k, color in enumerate(COLORS):
                if pres[k]:
                    cv2.circle(canvas, (int(xy[k, 0]), int(xy[k, 1])), stick, color, -1)
        return canvas

    def edges(self, size: tuple[int, int]) -> np.ndarray:
        """The skeleton as a boolean map (for the weight-free decoder and previews)."""
        return self.condition(size).max(axis=2) > 0

    def preview(self) -> np.ndarray:
        return self.condition((256, 256))

    def erase(self, box) -> PoseLayer:
        """A copy without the keypoints inside ``box`` = (x0, y0, x1, y1) in 0..1 fractions."""
        top = (1 << self.bits) - 1
        x, y = self.points[..., 0] / top, self.points[..., 1] / top
        inside = (x >= box[0]) & (x <= box[2]) & (y >= box[1]) & (y <= box[3])
        present = self.present & ~inside
        keep = present.any(axis=1)
        return PoseLayer(self.points[keep], present[keep], self.bits)
