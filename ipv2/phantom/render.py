"""Painting one breathing state of the phantom, block of slices by block of slices.

The NDCT state evaluates the anatomy on the regular grid. The uLDCT state evaluates the same
analytic anatomy at deformed coordinates (p + D(p)), and moves the end points of the
rasterised tubes and nodules by the inverse map, so both states are rendered at full
sharpness and neither is a resampled copy of the other.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ipv2.phantom import anatomy as shape
from ipv2.phantom.abdomen import COLON_WALL_MM, PERIRENAL_FAT_MM, STOMACH_WALL_MM
from ipv2.phantom.lungs import (
    GROUND_GLASS_TEXTURE_HU,
    TUMOUR_HALO_EDGE_MM,
    fissure_hu,
    lung_distance,
    parenchyma_hu,
    septa_hu,
)
from ipv2.phantom.model import PhantomModel
from ipv2.phantom.scanner import paint_table
from ipv2.phantom.shapes import intersect, soft, subtract
from ipv2.phantom.skeleton import cortex_mm, paint_humeri, paint_ribs, paint_scapulae, paint_spine, paint_sternum
from ipv2.phantom.texture import FINE, STRANDS, TISSUE
from ipv2.phantom.tissues import TISSUE_TEXTURE_HU, TISSUES, Canvas
from ipv2.phantom.trees import airway_wall_mm
from ipv2.phantom.tubes import Segments, SplattedTubes, rasterize, split_by_radius
from ipv2.progress import Monitor

VOXELS_PER_BLOCK = 2_000_000
MEDIASTINAL_FAT_MM = 4.0
GROUND_GLASS_HU = TISSUES["ground-glass nodule"].hu
TUMOUR_HALO_HU = TISSUES["tumour halo"].hu
SPLAT_BELOW_PIXELS = 0.75  # vessels thinner than this radius (in pixels) are drawn by their volume
STRAND_FIELD_MM = 6.0  # distance to the zero set of the strand field per unit of its value
STRAND_HALF_WIDTH_MM = 0.35
STRAND_CLEARANCE_MM = 3.0  # no strands within this depth of the muscle's surface


@dataclass
class RenderedState:
    hu: np.ndarray  # (z, y, x) float32, noise-free
    tissue: np.ndarray  # (z, y, x) uint8 tissue ids
    displacement: np.ndarray | None = None  # (z, y, x, 3) mm, for the deformed state


@dataclass
class _StateTubes:
    vessels: Segments  # thicker than SPLAT_BELOW_PIXELS
    small_vessels: SplattedTubes
    bronchi: Segments
    bronchus_walls: Segments
    central_airways: Segments
    central_walls: Segments
    great_vessels: Segments
    mediastinal_clearance: Segments  # great vessels and trachea in their fat: no lung there
    esophagus: Segments
    solid_nodules: Segments
    ground_glass_nodules: Segments
    tumour: Segments
    tumour_halo: Segments
    colon: Segments
    colon_wall: Segments
    liver_veins: Segments


def _tubes_for_state(model: PhantomModel, deformed: bool) -> _StateTubes:
    move = model.breathing.to_uldct if deformed else (lambda points: points)
    bronchi = model.bronchi
    bronchus_walls = bronchi.thickened((airway_wall_mm(bronchi.r_start), airway_wall_mm(bronchi.r_end)))
    central = model.central_airways
    central_walls = central.thickened((airway_wall_mm(central.r_start) + 1.0, airway_wall_mm(central.r_end) + 1.0))
    nodules = model.nodules
    small, large = split_by_radius(model.vessels, SPLAT_BELOW_PIXELS * model.grid.pixel_mm)
    tumour = model.tumour.lobes if model.tumour is not None else Segments.empty()
    halo = model.tumour.halo_mm if model.tumour is not None else 0.0
    colon = model.abdomen.colon
    return _StateTubes(
        vessels=large.moved(move),
        small_vessels=SplattedTubes(small.moved(move), model.grid),
        bronchi=bronchi.moved(move),
        bronchus_walls=bronchus_walls.moved(move),
        central_airways=central.moved(move),
        central_walls=central_walls.moved(move),
        great_vessels=model.great_vessels.moved(move),
        mediastinal_clearance=model.great_vessels.concat(central_walls.thickened(-1.0))
        .thickened(MEDIASTINAL_FAT_MM)
        .moved(move),
        esophagus=model.esophagus.moved(move),
        solid_nodules=nodules.segments(~nodules.ground_glass).moved(move),
        ground_glass_nodules=nodules.segments(nodules.ground_glass).moved(move),
        tumour=tumour.moved(move),
        tumour_halo=tumour.thickened(halo).moved(move),
        colon=colon.moved(move),
        colon_wall=colon.thickened(COLON_WALL_MM).moved(move),
        liver_veins=model.abdomen.liver_veins.moved(move),
    )


def _paint_chest_wall(canvas: Canvas, model: PhantomModel, X, Y, Z, texture, cortex: float) -> None:
    """Skin, fat and muscle with fat strands between its bundles, the arms when they are
    down, and the bones of the wall."""
    a, edge = model.anatomy, model.edge_mm
    canvas.paint(soft(shape.body_distance(a, X, Y, Z), edge), "skin")
    canvas.paint(soft(shape.body_distance(a, X, Y, Z, 2.0, 2.0, 2.0), edge), "fat")
    muscle = shape.subcutaneous_fat_inner_distance(a, X, Y, Z)
    canvas.paint(soft(muscle, edge), "muscle")
    if a.arms_down:
        # The layers of the arm by shifting one distance: near enough for a few millimetres.
        arm = shape.arm_distance(a, X, Y)
        canvas.paint(soft(arm, edge), "skin")
        canvas.paint(soft(arm + 2.0, edge), "fat")
        arm_muscle = arm + np.float32(2.0 + 6.0 * a.fat_scale)
        canvas.paint(soft(arm_muscle, edge), "muscle")
        muscle = np.minimum(muscle, arm_muscle)
    # Fat strands: the zero set of a smooth random field, a network of thin sheets.
    strand = np.abs(texture[STRANDS]) * np.float32(STRAND_FIELD_MM) - np.float32(STRAND_HALF_WIDTH_MM)
    canvas.paint(intersect(soft(strand, edge), soft(muscle + STRAND_CLEARANCE_MM, edge)), "fat")
    if a.arms_down:
        paint_humeri(canvas, a, X, Y, edge, cortex)
    paint_scapulae(canvas, a, X, Y, Z, edge)
    paint_ribs(canvas, a, X, Y, Z, edge, cortex)
    paint_sternum(canvas, a, X, Y, Z, edge, cortex)


def _paint_abdomen(canvas: Canvas, model: PhantomModel, tubes: _StateTubes, tube, abdomen, X, Y, Z, Ys) -> None:
    """The organs under the diaphragm, each clipped to the abdominal cavity; gas lies in
    front of (above, for the supine patient) a level that is flat in the scanner."""
    a, organs, edge = model.anatomy, model.abdomen, model.edge_mm
    canvas.paint(soft(abdomen, edge), "abdominal viscera")
    liver = soft(np.maximum(abdomen, shape.liver_side_distance(a, X, Y)), edge)
    canvas.paint(liver, "liver")
    canvas.paint(intersect(tube(tubes.liver_veins), liver), "blood")
    for kidney in organs.kidneys:
        canvas.paint(soft(np.maximum(kidney.distance(X, Y, Z, -PERIRENAL_FAT_MM), abdomen), edge), "fat")
        canvas.paint(soft(np.maximum(kidney.distance(X, Y, Z), abdomen), edge), "kidney")
    canvas.paint(soft(np.maximum(organs.spleen.distance(X, Y, Z), abdomen + 1.0), edge), "spleen")
    # The colon's wall stays where the cavity clips it: its content never touches the diaphragm.
    canvas.paint(intersect(tube(tubes.colon_wall), soft(abdomen, edge)), "gut wall")
    colon = intersect(tube(tubes.colon), soft(abdomen + COLON_WALL_MM, edge))
    canvas.paint(colon, "bowel content")
    canvas.paint(intersect(colon, soft(Ys - np.float32(organs.colon_level_y), edge)), "other gas")
    stomach = organs.stomach.distance(X, Y, Z)
    canvas.paint(soft(np.maximum(stomach, abdomen), edge), "gut wall")
    lumen = soft(np.maximum(stomach + STOMACH_WALL_MM, abdomen + STOMACH_WALL_MM), edge)
    canvas.paint(lumen, "gastric fluid")
    canvas.paint(intersect(lumen, soft(Ys - np.float32(organs.stomach_level_y), edge)), "other gas")


def _paint_block(model: PhantomModel, tubes: _StateTubes, zslice: slice, X, Y, Z, Xs, Ys) -> Canvas:
    """X, Y, Z: anatomical coordinates of the block's voxels; Xs, Ys: scanner coordinates."""
    grid, a, edge = model.grid, model.anatomy, model.edge_mm
    cortex = cortex_mm(grid.pixel_mm)
    block_shape = (len(grid.axis("z")[zslice]), grid.shape[1], grid.shape[2])
    canvas = Canvas(block_shape)
    texture = model.textures.sample(X, Y, Z)

    def tube(segments, edge_mm=edge):
        return rasterize(segments, grid, zslice, edge_mm)

    _paint_chest_wall(canvas, model, X, Y, Z, texture, cortex)

    # Thoracic cavity: mediastinal fat, then the upper abdomen under the diaphragm.
    cavity = shape.cavity_distance(a, X, Y, Z)
    canvas.paint(soft(cavity, edge), "fat")
    below = shape.below_diaphragm_distance(a, X, Y, Z)
    abdomen = np.maximum(cavity, below)
    if np.any(abdomen < edge):
        _paint_abdomen(canvas, model, tubes, tube, abdomen, X, Y, Z, Ys)
    canvas.paint(soft(np.maximum(cavity, np.abs(below - 2.0) - 2.0), edge), "muscle")  # diaphragm

    # Lungs with their fissures, septa, vessels and nodules.
    lung_d = lung_distance(a, X, Y, Z)
    lung = subtract(soft(lung_d, edge), tube(tubes.mediastinal_clearance))
    canvas.paint(lung, "lung parenchyma", parenchyma_hu(Y, texture))
    canvas.add(fissure_hu(a, X, Y, Z, grid.pixel_mm), "lung parenchyma")
    canvas.add(
        septa_hu(a, X, Y, Z, -lung_d, lambda x, y, z: model.septa.sample(x, y, z)[0], grid.pixel_mm), "lung parenchyma"
    )
    vessels = np.maximum(tube(tubes.vessels), tubes.small_vessels.block(zslice))
    canvas.paint(intersect(vessels, lung), "pulmonary vessel")
    canvas.paint(tube(tubes.solid_nodules), "solid nodule")
    canvas.paint(
        tube(tubes.ground_glass_nodules),
        "ground-glass nodule",
        GROUND_GLASS_HU + GROUND_GLASS_TEXTURE_HU * texture[FINE],
    )

    # Mediastinum: heart in its fat, great vessels, oesophagus.
    heart = np.maximum(shape.heart_distance(a, X, Y, Z), -below)
    canvas.paint(soft(heart - 5.0, edge), "fat")
    canvas.paint(soft(heart, edge), "myocardium")
    canvas.paint(tube(tubes.great_vessels), "blood")
    canvas.paint(tube(tubes.esophagus), "muscle")
    paint_spine(canvas, a, X, Y, Z, edge, cortex)

    # Airways: walls, then the air inside them; bronchi inside the lung envelope are told
    # apart from the trachea and main bronchi (the lung field holds the former).
    walls = tube(tubes.bronchus_walls)
    canvas.paint(intersect(walls, lung), "airway wall in lung")
    canvas.paint(subtract(walls, lung), "airway wall")
    canvas.paint(tube(tubes.central_walls), "airway wall")
    bronchi = tube(tubes.bronchi)
    canvas.paint(np.maximum(tube(tubes.central_airways), bronchi), "airway lumen")
    in_lung = (canvas.tissue == TISSUES["airway lumen"].id) & (bronchi > 0.5) & (soft(lung_d, edge) > 0.5)
    canvas.tissue[in_lung] = TISSUES["airway lumen in lung"].id
    if len(tubes.tumour):  # over the vessels and bronchi it engulfs
        canvas.paint(
            tube(tubes.tumour_halo, TUMOUR_HALO_EDGE_MM),
            "tumour halo",
            TUMOUR_HALO_HU + GROUND_GLASS_TEXTURE_HU * texture[FINE],
        )
        canvas.paint(tube(tubes.tumour), "tumour")

    canvas.hu += TISSUE_TEXTURE_HU[canvas.tissue] * texture[TISSUE]
    cancellous = canvas.tissue == TISSUES["cancellous bone"].id
    if cancellous.any():
        points = [np.broadcast_to(c, block_shape)[cancellous] for c in (X, Y, Z)]
        canvas.hu[cancellous] += model.trabeculae.hu_offset(*points)
    paint_table(canvas, Xs, Ys, edge)
    return canvas


def render_state(
    model: PhantomModel,
    deformed: bool,
    monitor: Monitor | None = None,
    stage: str = "phantom anatomy",
    step_offset: int = 0,
    total_steps: int | None = None,
) -> RenderedState:
    """The noise-free volume and tissue map of one breathing state."""
    grid = model.grid
    nz, ny, nx = grid.shape
    hu = np.empty(grid.shape, dtype=np.float32)
    tissue = np.empty(grid.shape, dtype=np.uint8)
    displacement = np.empty(grid.shape + (3,), dtype=np.float32) if deformed else None
    tubes = _tubes_for_state(model, deformed)
    blocks = list(grid.chunks(max(1, VOXELS_PER_BLOCK // (ny * nx))))
    total = total_steps if total_steps is not None else len(blocks)
    for done, zslice in enumerate(blocks, start=1):
        Xs, Ys, Zs = grid.regular_coordinates(zslice)
        if displacement is not None:  # the deformed state
            Xf, Yf, Zf = np.broadcast_arrays(Xs, Ys, Zs)
            dx, dy, dz = model.breathing.displacement(Xf, Yf, Zf)
            displacement[zslice] = np.stack([dx, dy, dz], axis=-1)
            X, Y, Z = Xf + dx, Yf + dy, Zf + dz
        else:
            X, Y, Z = Xs, Ys, Zs
        canvas = _paint_block(model, tubes, zslice, X, Y, Z, Xs, Ys)
        hu[zslice] = canvas.hu
        tissue[zslice] = canvas.tissue
        if monitor is not None:
            monitor.step(stage, step_offset + done, total)
    return RenderedState(hu=hu, tissue=tissue, displacement=displacement)


def block_count(model: PhantomModel) -> int:
    nz, ny, nx = model.grid.shape
    return len(list(model.grid.chunks(max(1, VOXELS_PER_BLOCK // (ny * nx)))))
