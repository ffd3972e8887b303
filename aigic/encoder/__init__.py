"""The encoder's decisions: what to extract, how coarse each layer may be, how to fit a rate.

extractors.py  Canny, PiDiNet sketches, OpenPose keypoints (neural ones lazily)
caption.py     BLIP / BLIP-2 captions for images without a prompt
reduce.py      the edge map's lossy styles (lines, strokes, cells) on a coarser grid
presets.py     presets and the grid factors / colour bounds tried, as tables
settings.py    EncodeSettings, EncodeResult
ratecontrol.py choose(base, rgb, settings): the stream that fits the rate
"""
