"""The phantom's anatomy: each structure exists where it should (noise-free)."""

import numpy as np
import pytest
from scipy import ndimage

from ipv2.phantom import (
    LABEL_BODY,
    LABEL_LUNG,
    LABEL_OTHER_GAS,
    LABEL_TUMOUR,
    TISSUES,
    Acquisition,
    PhantomOptions,
    generate_phantom_pair,
)
from ipv2.phantom import anatomy as shape
from ipv2.phantom.anatomy import Anatomy
from ipv2.phantom.breathing import Breathing
from ipv2.phantom.grid import PhantomGrid, u_from_z
from ipv2.phantom.lungs import SEPTA_DEPTH_MM, lung_distance, septa_hu
from ipv2.phantom.model import build_phantom_model, vessel_min_radius
from ipv2.phantom.skeleton import TrabecularPattern
from ipv2.phantom.trees import RIGHT_BRONCHUS_END, Tree, _point, airway_wall_mm, bronchi_beside
from ipv2.phantom.tubes import Segments, SplattedTubes

# A slab 140 mm long (5 mm slices), from above the carina to the upper poles of the kidneys.
GRID = Acquisition.resolve(160, 28, slice_mm=5.0)
SEED = 2


@pytest.fixture(scope="module")
def still_pair():
    """Without breathing motion both states are the anatomy on the regular grid."""
    return generate_phantom_pair(GRID, PhantomOptions(seed=SEED, motion_mm=0.0, noise=False))


@pytest.fixture(scope="module")
def still_model(still_pair):
    grid = PhantomGrid.create(GRID.size, GRID.slices, slice_mm=GRID.slice_mm)
    return build_phantom_model(grid, SEED, 0.0)


def _coordinates():
    grid = PhantomGrid.create(GRID.size, GRID.slices, slice_mm=GRID.slice_mm)
    X, Y, Z = grid.regular_coordinates(slice(None))
    return np.broadcast_arrays(X, Y, Z)


def _tissue(pair, name):
    return pair.tissues.array == TISSUES[name].id


def test_stomach_gas_lies_below_the_diaphragm_in_front_of_its_fluid(still_pair, still_model):
    X, Y, Z = _coordinates()
    anatomy, organs = still_model.anatomy, still_model.abdomen
    gas = still_pair.labels.array == LABEL_OTHER_GAS
    in_stomach = organs.stomach.distance(X, Y, Z) < 0
    stomach_gas, fluid = gas & in_stomach, _tissue(still_pair, "gastric fluid")
    assert stomach_gas.sum() > 20 and fluid.sum() > 20
    # All gas, in the stomach or the bowel, is below the diaphragm.
    assert np.all(shape.below_diaphragm_distance(anatomy, X, Y, Z)[gas] < 0)
    # Supine: the gas is anterior (smaller y) of the flat air-fluid level, the fluid behind it.
    pixel = still_pair.truth.spacing[1]
    assert Y[stomach_gas].max() < organs.stomach_level_y + pixel
    assert Y[fluid].min() > organs.stomach_level_y - pixel


def test_colon_holds_gas_and_stool_and_the_organs_sit_where_they_belong(still_pair):
    X, Y, Z = _coordinates()
    u = u_from_z(Z)
    labels = still_pair.labels.array
    stool = _tissue(still_pair, "bowel content")
    assert stool.sum() > 20
    colon_gas = (labels == LABEL_OTHER_GAS) & (ndimage.binary_dilation(stool, iterations=3))
    assert colon_gas.sum() > 5
    liver, spleen, kidney = (_tissue(still_pair, name) for name in ("liver", "spleen", "kidney"))
    assert liver.sum() > 200 and spleen.sum() > 100 and kidney.sum() > 20
    assert np.median(X[liver]) < -20 and np.median(X[spleen]) > 40  # x: the patient's right to left
    assert np.median(Y[spleen]) > 0 and Y[kidney].min() > 20  # posterior
    assert u[kidney].min() > 0.85  # only towards the base
    # The hepatic veins inside the liver, well away from the vena cava (x -20 mm).
    blood = _tissue(still_pair, "blood") & (u > 0.85)
    assert (blood & (X < -50)).sum() > 5


def test_tumour_is_a_solid_mass_in_a_ground_glass_halo_inside_the_lung(still_pair, still_model):
    tumour = still_model.tumour
    assert tumour is not None and 20.0 <= tumour.diameter_mm <= 40.0
    solid, halo = _tissue(still_pair, "tumour"), _tissue(still_pair, "tumour halo")
    assert solid.sum() > 20 and halo.sum() > 20
    np.testing.assert_array_equal(still_pair.labels.array == LABEL_TUMOUR, solid | halo)
    assert ndimage.label(solid)[1] == 1
    hu = still_pair.anatomy.array
    assert np.median(hu[ndimage.binary_erosion(solid)]) > 0
    assert -800 < np.median(hu[halo]) < -400
    X, Y, Z = _coordinates()
    assert np.all(lung_distance(still_model.anatomy, X, Y, Z)[solid | halo] < 0)
    assert still_pair.lung_field()[solid | halo].all()


def test_without_the_tumour_the_rest_of_the_phantom_is_the_same(still_pair, still_model):
    plain = generate_phantom_pair(GRID, PhantomOptions(seed=SEED, motion_mm=0.0, noise=False, tumour=False))
    assert not np.any(plain.labels.array == LABEL_TUMOUR)
    X, Y, Z = _coordinates()
    centre = still_model.tumour.centre
    reach = 0.5 * still_model.tumour.diameter_mm + still_model.tumour.halo_mm + 3.0 + 2 * GRID.slice_mm
    far = (X - centre[0]) ** 2 + (Y - centre[1]) ** 2 + (Z - centre[2]) ** 2 > reach**2
    np.testing.assert_array_equal(plain.anatomy.array[far], still_pair.anatomy.array[far])


def test_lung_field_holds_what_is_inside_the_lungs_and_regions_put_gas_and_tumour_in_the_body(still_pair):
    field = still_pair.lung_field()
    labels = still_pair.labels.array
    assert field[labels == LABEL_LUNG].all()
    assert not field[labels == LABEL_OTHER_GAS].any()
    # The trachea and main bronchi are air but not lung field.
    central = _tissue(still_pair, "airway lumen")
    assert central.sum() > 10 and not field[central].any()
    assert field[_tissue(still_pair, "airway lumen in lung")].all()
    regions = still_pair.region_labels()
    assert np.all(regions[labels == LABEL_OTHER_GAS] == LABEL_BODY)
    assert np.all(regions[labels == LABEL_TUMOUR] == LABEL_BODY)


def test_vessels_branch_down_to_sub_millimetre_calibre_and_fill_the_periphery():
    grid = PhantomGrid.create(512, 48)
    model = build_phantom_model(grid, seed=0, motion_mm=8.0)
    diameters = 2.0 * np.minimum(model.vessels.r_start, model.vessels.r_end)
    assert 0.5 <= diameters.min() < 1.0
    assert (diameters < 1.0).sum() > 3000
    # Density of the smallest vessels in the outer 3-20 mm of the lung, per millilitre.
    rng = np.random.default_rng(0)
    low, high = np.array([-160.0, -110.0, -50.0]), np.array([160.0, 80.0, 50.0])
    points = low + rng.uniform(size=(200_000, 3)) * (high - low)
    depth = -lung_distance(model.anatomy, points[:, 0], points[:, 1], points[:, 2])
    shell_ml = np.mean((depth > 3) & (depth < 20)) * np.prod(high - low) / 1000.0
    middle = 0.5 * (model.vessels.start + model.vessels.end)
    inside_box = np.all((middle > low) & (middle < high), axis=1)
    vessel_depth = -lung_distance(model.anatomy, middle[:, 0], middle[:, 1], middle[:, 2])
    peripheral = inside_box & (vessel_depth > 3) & (vessel_depth < 20) & (diameters < 1.0)
    assert peripheral.sum() / shell_ml > 5.0


def test_vessels_far_below_a_pixel_are_pruned():
    assert vessel_min_radius(0.7) == pytest.approx(0.3)
    assert vessel_min_radius(3.0) == pytest.approx(0.5)


def test_a_tube_thinner_than_a_voxel_keeps_its_volume():
    grid = PhantomGrid.create(64, 8, pixel_mm=0.7, slice_mm=2.5)
    x, y, z = grid.axis("x"), grid.axis("y"), grid.axis("z")
    # Along x through a row of voxel centres: each voxel holds pi r^2 dx of the tube.
    r = 0.3
    tube = Segments(np.array([[x[10], y[30], z[4]]]), np.array([[x[50], y[30], z[4]]]), np.array([r]), np.array([r]))
    occupancy = SplattedTubes(tube, grid).block(slice(0, 8))
    expected = np.pi * r * r / (0.7 * 2.5)
    np.testing.assert_allclose(occupancy[4, 30, 12:48], expected, rtol=0.02)
    assert occupancy[4, 29].max() < 1e-6 and occupancy[3].max() < 1e-6
    voxel_ml = 0.7 * 0.7 * 2.5
    assert occupancy.sum() * voxel_ml == pytest.approx(np.pi * r * r * (x[50] - x[10]), rel=1e-3)
    # Read by blocks, the same as a whole.
    np.testing.assert_array_equal(
        np.concatenate([SplattedTubes(tube, grid).block(slice(0, 4)), SplattedTubes(tube, grid).block(slice(4, 8))]),
        occupancy,
    )


def test_bronchi_run_beside_their_arteries_and_stop_at_the_lung_edge():
    artery = Segments(
        np.array([[-45.0, 0.0, 0.0], [-65.0, 0.0, 0.0], [-80.0, 0.0, 0.0]]),
        np.array([[-65.0, 0.0, 0.0], [-80.0, 0.0, 0.0], [-90.0, 0.0, 0.0]]),
        np.array([4.0, 3.5, 3.0]),
        np.array([3.6, 3.2, 2.7]),
    )
    tree = Tree(artery, np.array([-1, 0, 1]))

    def depth_inside(points):  # lung out to x = -85 mm
        return points[:, 0] + 85.0

    bronchi = bronchi_beside(tree, depth_inside, min_radius=1.0)
    # root: connector and bronchus; second: connector and bronchus; third ends outside the lung
    assert len(bronchi) == 4
    lumen = 0.9 * 4.0
    expected_gap = 4.0 + lumen + airway_wall_mm(lumen) + 0.3
    offset = bronchi.start[1] - artery.start[0]
    assert np.linalg.norm(offset) == pytest.approx(expected_gap)
    assert abs(offset[0]) < 1e-6  # perpendicular to the artery (along x)
    assert bronchi.r_start[1] == pytest.approx(lumen)
    np.testing.assert_allclose(bronchi.end[1] - bronchi.start[1], artery.end[0] - artery.start[0])
    # Connectors: from the end of the main bronchus to the first bronchus, then parent to child.
    np.testing.assert_allclose(bronchi.start[0], _point(*RIGHT_BRONCHUS_END))
    np.testing.assert_allclose(bronchi.end[0], bronchi.start[1])
    np.testing.assert_allclose(bronchi.start[2], bronchi.end[1])
    np.testing.assert_allclose(bronchi.end[2], bronchi.start[3])


def test_septa_meet_the_pleura_at_right_angles_and_fade_inwards():
    anatomy = Anatomy()
    # A point on the lateral pleura of the right lung at mid height, and its outward normal.
    y, z = np.float32(-10.0), np.float32(0.0)
    xs = np.linspace(-140, -60, 8001, dtype=np.float32)
    surface = np.array([xs[np.argmin(np.abs(lung_distance(anatomy, xs, y, z)))], y, z], dtype=np.float32)
    step = 0.01
    normal = np.array(
        [
            lung_distance(anatomy, *(surface + step * e)) - lung_distance(anatomy, *(surface - step * e))
            for e in np.eye(3, dtype=np.float32)
        ]
    ) / (2 * step)
    normal /= np.linalg.norm(normal)
    depths = np.array([2.0, 5.0, 8.0, 11.0, 19.0], dtype=np.float32)
    px, py, pz = (surface[None, :] - depths[:, None] * normal[None, :]).T.astype(np.float32)
    depth = -lung_distance(anatomy, px, py, pz)
    seen = []

    def sample(fx, fy, fz):
        seen.append((fx.copy(), fy.copy(), fz.copy()))
        return 0.02 * (fy - y) + 0.03 * (fz - z)  # varies only along the pleura

    hu = septa_hu(anatomy, px, py, pz, depth, sample, pixel_mm=0.7)
    # Every point on the normal within the fading depth is read at the same foot point on the
    # pleura, so the septum is perpendicular to it...
    for found, expected in zip(seen[0], surface):
        np.testing.assert_allclose(found, expected, atol=0.3)
    # ...and its strength falls only by the fade, 1 - depth / SEPTA_DEPTH_MM.
    inside = depth < SEPTA_DEPTH_MM
    assert inside.sum() == 4
    ratio = hu[inside] / hu[inside][0]
    np.testing.assert_allclose(ratio, (1 - depth[inside] / SEPTA_DEPTH_MM) / (1 - depth[0] / SEPTA_DEPTH_MM), rtol=0.05)
    assert hu[~inside].max() == 0.0 and hu[0] > 20.0


def test_chest_wall_muscle_has_fat_strands_and_bone_a_trabecular_texture(still_pair, still_model):
    X, Y, Z = _coordinates()
    anatomy = still_model.anatomy
    deep_in_muscle = (shape.subcutaneous_fat_inner_distance(anatomy, X, Y, Z) < -6.0) & (
        shape.rib_cage_distance(anatomy, X, Y, Z) > 3.0
    )
    fat, muscle = _tissue(still_pair, "fat") & deep_in_muscle, _tissue(still_pair, "muscle") & deep_in_muscle
    assert 0.01 < fat.sum() / (fat.sum() + muscle.sum()) < 0.3
    offsets = TrabecularPattern.draw(np.random.default_rng(1)).hu_offset(
        *np.random.default_rng(2).uniform(-100, 100, (3, 100_000)).astype(np.float32)
    )
    assert abs(offsets.mean()) < 10.0 and offsets.std() > 80.0
    marrow = ndimage.binary_erosion(_tissue(still_pair, "cancellous bone"), structure=np.ones((1, 3, 3), bool))
    bone_hu = still_pair.anatomy.array[marrow]
    assert 150 < bone_hu.mean() < 320 and bone_hu.std() > 70


def test_dependent_lung_is_denser(still_pair):
    X, Y, Z = _coordinates()
    lung = ndimage.binary_erosion(_tissue(still_pair, "lung parenchyma"), structure=np.ones((1, 3, 3), bool))
    hu = still_pair.anatomy.array
    assert hu[lung & (Y > 40)].mean() - hu[lung & (Y < -40)].mean() > 20.0


def test_body_arms_and_breath_vary_by_seed():
    drawn = [Anatomy.draw(np.random.default_rng(seed)) for seed in range(40)]
    widths = [a.width_scale for a in drawn]
    assert max(widths) - min(widths) > 0.2
    arms = {a.arms_down for a in drawn}
    assert arms == {True, False}
    breaths = [Breathing.draw(np.random.default_rng(seed), 8.0).motion_mm for seed in range(40)]
    assert min(breaths) >= 6.0 and max(breaths) <= 10.0 and max(breaths) - min(breaths) > 2.0
    assert all(Breathing.draw(np.random.default_rng(seed), 0.0).is_identity for seed in range(5))


def test_arms_down_lie_beside_the_chest_and_arms_up_leave_the_scan():
    def arm_tissue(pair):
        """Body voxels beside the chest, beyond its widest half-width."""
        body = pair.labels.array == LABEL_BODY
        x = PhantomGrid.create(96, 4).axis("x")
        widest = Anatomy(width_scale=pair.parameters["anatomy"]["width_scale"]).body_half_width(1.0)
        return body[:, :, np.abs(x) > widest + 4.0].sum()

    pairs = {}
    for seed in range(12):
        pair = generate_phantom_pair(Acquisition.resolve(96, 4), PhantomOptions(seed=seed, noise=False, motion_mm=0.0))
        pairs.setdefault(pair.parameters["anatomy"]["arms_down"], pair)
        if len(pairs) == 2:
            break
    assert arm_tissue(pairs[True]) > 0 and arm_tissue(pairs[False]) == 0
