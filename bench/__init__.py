"""The performance benchmark (SPEC §9; `recon bench`, `make bench`): see `bench/run.py`."""
