"""Whether a job's results still have a place to go: its input nodes are still in the scene.

File > Close Scene (or `scene.Clear()`) removes every node while a backend job may be running;
its results belong to nodes that are gone and must not be imported into the next scene.
"""

import slicer


def inputsInScene(*nodes, scene=None):
    """A check for `BackendJob(resultsWanted=...)`: True while every given node is still in `scene`."""
    scene = scene or slicer.mrmlScene
    watched = [node for node in nodes if node is not None]

    def stillThere():
        return all(node.GetScene() is not None and scene.IsNodePresent(node) for node in watched)

    return stillThere
