"""postrender: a Helm post-renderer that puts Airflow's worker pod template and workloads on claims.

The package is a pipeline, one module per step:
read (split the stream) → select (find targets) → inject (pure edit of pod specs)
→ splice/write (minimal text edits, all-or-nothing output). `pipeline` wires them.
"""
__version__ = "0.1.0"
