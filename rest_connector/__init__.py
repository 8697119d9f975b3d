"""The pipeline app (``rest-connector``): the pipeline YAML (load, sandboxed Jinja, checks,
translation into plugin settings), the runner that joins tap and targets by Unix pipes, the
Spark engine's runner, the sandbox API and the demo. It reaches the plugins only through
their executables and their packages' public names."""
