"""Inputs computed together must sit in one coordinate frame of the scene.

The backend sees each volume's own geometry (its IJK-to-RAS matrix). A parent transform, such
as a registration result, moves a volume in the scene without changing that geometry, so two
inputs under different transforms are misaligned in a way the backend cannot see: they are
refused before any work. Results take their input's parent transform
(`VolumeNodeConverter.toNewNode(like=...)`, `RegionSegmentation.create`), so that they show
where the input shows.
"""


def parentTransformName(node):
    transform = node.GetParentTransformNode()
    return "no transform" if transform is None else f"transform '{transform.GetName()}'"


def requireOneParentTransform(namedNodes):
    """Refuses `(description, node)` pairs whose nodes sit under different parent transforms."""
    present = [(description, node) for description, node in namedNodes if node is not None]
    transforms = {
        None if node.GetParentTransformNode() is None else node.GetParentTransformNode().GetID() for _, node in present
    }
    if len(transforms) > 1:
        placed = ", ".join(f"{description} under {parentTransformName(node)}" for description, node in present)
        raise ValueError(
            f"the inputs sit under different transforms ({placed}). Put them under the same "
            "transform, or harden the transforms (Data module: right-click > Harden transform), "
            "and try again"
        )
