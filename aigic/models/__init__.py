"""Learned models the coders use, their pinned assets, and where weights come from.

prompt.py   the semantic layer's trigram prompt models (assets/prompt_model_v1.npz, and
            v2 with a prompt cache, prompt_model_v2.npz)
edgenet.py  the structure layer's integer edge predictors (assets/edge_model_v*.npz)
strokes.py  the cell tables that draw grids back as sketch strokes or Canny lines
            (assets/stroke_table_v1.npz, line_table_v1.npz)
pinned.py   reading an asset pinned by SHA-256
hub.py      model folders: AIGIC_MODEL_DIR, the Hugging Face cache, or the hub
"""
