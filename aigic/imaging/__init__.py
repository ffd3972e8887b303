"""Pixels and what comes with them: reading untrusted images and their generation metadata,
colour spaces, and the fidelity measures shared by the encoder and the benches.

    images.py    load_image (any mode, bombs refused), to_array at the coding size
    metadata.py  the prompt from A1111 / ComfyUI / InvokeAI / EXIF / XMP metadata
    color.py     sRGB <-> CIELAB
    metrics.py   matched (one to one) and tolerant edge F1, Dice, CIEDE2000
"""
