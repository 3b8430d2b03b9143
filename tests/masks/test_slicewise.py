"""In-plane components slice by slice: labels, their statistics, the largest, small holes,
and the links of chunks whose sections are kept within different boxes."""

import numpy as np
import pytest
from scipy import ndimage as ndi

from ipv2.masks.chunk_sections import ChunkSections, boundary_slices
from ipv2.masks.enclosed import section_links
from ipv2.masks.lung_field import small_holes
from ipv2.masks.slicewise import (
    component_sizes,
    label_slices,
    label_slices_with_stats,
    largest_per_slice,
    slice_of_labels,
)


@pytest.fixture
def mask():
    rng = np.random.default_rng(7)
    return ndi.gaussian_filter(rng.standard_normal((5, 48, 40)), (0, 1.2, 1.2)) > 0.1


@pytest.mark.parametrize("connectivity", [1, 2])
def test_labels_with_stats_are_the_stack_labels_with_their_sizes_slices_and_boxes(mask, connectivity):
    expected, count = label_slices(mask, connectivity)
    labels, found, sizes, z, boxes = label_slices_with_stats(mask, connectivity)
    assert found == count and labels.dtype == np.intp
    np.testing.assert_array_equal(labels, expected)
    np.testing.assert_array_equal(sizes, component_sizes(expected, count))
    np.testing.assert_array_equal(z[1:], slice_of_labels(expected, count)[1:])
    for label, found_slices in enumerate(ndi.find_objects(expected), start=1):
        _, rows, columns = found_slices
        assert tuple(boxes[label]) == (rows.start, columns.start, rows.stop, columns.stop)


def test_labels_with_stats_of_an_empty_mask():
    labels, count, sizes, z, boxes = label_slices_with_stats(np.zeros((2, 8, 9), dtype=bool))
    assert count == 0 and not labels.any() and sizes.tolist() == [144] and tuple(boxes[0]) == (0, 0, 8, 9)


def test_largest_per_slice_keeps_the_largest_component_of_each_slice():
    mask = np.zeros((3, 12, 12), dtype=bool)
    mask[0, 1:3, 1:3] = True  # 4 pixels
    mask[0, 6:10, 6:10] = True  # 16 pixels: the largest
    mask[1, 0:2, 0:2] = True  # two equal ones: the first in raster order
    mask[1, 8:10, 8:10] = True
    mask[2, 4, 4] = mask[2, 5, 5] = True  # joined diagonally only
    largest = largest_per_slice(mask)
    assert np.array_equal(np.argwhere(largest[0]).min(axis=0), [6, 6]) and largest[0].sum() == 16
    assert largest[1, 0, 0] and not largest[1, 8, 8]
    assert largest[2].sum() == 2
    assert largest_per_slice(mask, connectivity=1)[2].sum() == 1


def test_small_holes_are_the_enclosed_gaps_up_to_the_size(mask):
    gaps, count = label_slices(~mask, 1)
    sizes = component_sizes(gaps, count)
    touching = np.unique(
        np.concatenate([gaps[:, 0].ravel(), gaps[:, -1].ravel(), gaps[:, :, 0].ravel(), gaps[:, :, -1].ravel()])
    )
    for limit in (3, 20, 10_000):
        wanted = sizes <= limit
        wanted[touching] = False
        wanted[0] = False
        np.testing.assert_array_equal(small_holes(mask, limit), wanted[gaps], err_msg=str(limit))


def test_links_across_chunks_with_different_boxes_are_those_of_the_whole_stack():
    sections = np.zeros((2, 20, 20), dtype=np.int32)
    sections[0, 2:8, 3:9] = 1  # overlaps section 3 only
    sections[0, 12:15, 12:18] = 2  # overlaps section 4 only at its corner
    sections[1, 6:10, 6:12] = 3
    sections[1, 14:19, 17:20] = 4
    sections[1, 0:2, 0:2] = 5  # overlaps nothing

    def kept(stack):
        rows, columns = ndi.find_objects((stack > 0).astype(int))[0][1:]
        return ChunkSections(box=(rows, columns), labels=stack[:, rows, columns].copy(), smooth=None)

    links = section_links(boundary_slices(kept(sections[:1]), kept(sections[1:])))
    np.testing.assert_array_equal(links, section_links(sections))
    assert links.T.tolist() == [[1, 3], [2, 4]]
    apart = np.zeros_like(sections)
    apart[0, :3, :3], apart[1, 15:, 15:] = 1, 2
    assert section_links(boundary_slices(kept(apart[:1]), kept(apart[1:]))).shape == (2, 0)
