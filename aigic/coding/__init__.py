"""Entropy coders, named for what each codes. They know bits and probabilities, not layers.

bits.py         binary arithmetic coder (16-bit probabilities) + two-sided geometric
                residuals: the colour grid
binary_maps.py  context-mixing coder of binary maps (kernel: cm_kernel.py, numba): edge maps
symbols.py      range coder of categorical symbols (constriction): prompts, pose keypoints
"""
