"""The volume file suffixes the readers and writers take besides DICOM folders.

Apart from `ipv2.io.volumes` so that the command line's help can name them without loading
SimpleITK.
"""

VOLUME_SUFFIXES = (".nrrd", ".nhdr", ".nii", ".nii.gz", ".mha", ".mhd")
