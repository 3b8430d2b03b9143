"""Denoising a scan: networks, classical methods and the strength control over them."""
