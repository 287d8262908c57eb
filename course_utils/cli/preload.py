"""What `course grade`'s server imports once, beyond the checker, so that every notebook it forks starts with it:
torchvision (most lessons import it; about a second per notebook otherwise). An install where it fails to load is
left for each notebook that imports it to report, as it would without the server."""
try:
    import torchvision  # noqa: F401
except Exception:  # noqa: BLE001  (a torchvision built for another PyTorch raises RuntimeError, not ImportError)
    pass
