"""The coders' own learned models and their assets (assets/, each file pinned by SHA-256 through
pinned.py): the prompt models of the semantic layer (prompt.py), the integer edge predictors of
the structure layer (edgenet.py), and the cell tables that draw grids back as strokes or lines
(strokes.py). Third-party weights are in aigic.weights."""
