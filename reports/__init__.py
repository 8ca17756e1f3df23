"""Documents rendered from governance's typed results (files, HTML, charts): an entry point's
helpers, outside the pure domain."""
