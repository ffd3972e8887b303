"""Third-party models: which repos aigic uses and the files each decode needs (repos.py), their
pins and the state file that remembers verified files (files.py), where a copy is found
(hub.py: AIGIC_MODEL_DIR, the Hugging Face cache, the hub; AIGIC_OFFLINE), fetching them
(download.py: ``aigic models download``), and SD 1.5's tokenizer for counting prompt tokens
(tokens.py). The coders' own learned models are in aigic.models."""
