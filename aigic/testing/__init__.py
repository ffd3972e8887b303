"""Tools that test aigic rather than run it: the fuzzers (fuzz.py for streams, fuzz_metadata.py
for image metadata; ``aigic fuzz``) and models.py, the random-weight model builder (tiny models
for the fast tests, SD 1.5 at its real size for the full-size tests and ``aigic bench-decode``)."""
