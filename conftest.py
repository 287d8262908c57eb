"""pytest set-up shared by the unit tests and nbval: what notebook comparisons ignore."""


def pytest_collectstart(collector):
    # nbval compares stored outputs; stderr (warnings, progress bars) and HTML (embedded plots,
    # styling) vary between machines, so only plain text and errors are compared.
    if hasattr(collector, "skip_compare"):
        collector.skip_compare = tuple(collector.skip_compare) + ("stderr", "text/html")
