"""postrender: a Helm post-renderer that puts Airflow's worker pod template and workloads on claims.

The package is a pipeline, one module per step:
read (split the stream) → targets (find them) → inject (pure edit of pod specs) → edit (the
filter: one object in, its new value and findings out) → patch/output (minimal text edits,
all-or-nothing output). `pipeline`, `twoprocess` and `krm` drive the filter (README: Layout).
"""
__version__ = "0.1.0"
