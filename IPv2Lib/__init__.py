"""Slicer-side library shared by the IPv2Purify and IPv2Denoise modules.

It has its own CMake target (IPv2Lib/CMakeLists.txt) and is installed as the package
folder `IPv2Lib` in the extension's scripted-modules folder, beside the two module files
and the `ipv2` backend. That folder is on `sys.path` in Slicer (it holds the modules), so
both import `IPv2Lib` the same way; Slicer looks for modules only among the files directly
in it, so nothing here is taken for a module. In a source checkout the repository root
plays that folder's part. Node handling and the background process runner need MRML and
`slicer.util` only (no Qt), so they run under pytest with the `slicer-core` wheel; all
numerics stay in the `ipv2` backend.
"""
