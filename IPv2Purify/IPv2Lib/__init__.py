"""Slicer-side library shared by the IPv2Purify and IPv2Denoise modules.

It is installed with IPv2Purify; Slicer puts every scripted module folder on `sys.path`, so
IPv2Denoise imports it as `IPv2Lib` too. Node handling and the background process runner
need MRML and `slicer.util` only (no Qt), so they run under pytest with the `slicer-core`
wheel; all numerics stay in the `ipv2` backend.
"""
