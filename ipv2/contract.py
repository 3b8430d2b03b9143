"""The names the command line and the Slicer panels agree on, and nothing else.

Constants only, and no imports: the panels import this module on Slicer's main thread to
fill their lists and check their inputs, where importing the backend's packages (torch,
scipy, scikit-image) would freeze the application. This is the only definition of each value:
the backend and the panels import it from here (tables keyed by these names, such as the model
registry, hold the implementations), and tests/test_contract_single_source.py fails on a copy.

Output files of `ipv2 purify --out DIR`: the masks labelmap (LABEL_* values), the training
input and target, the evaluation label and the JSON report.
"""

# ipv2 purify ---------------------------------------------------------------------------
MODES = ("ipv1", "ipv2", "ipv2m")
DEFAULT_MODE = "ipv2"
WEAK_DENOISERS = ("nlm", "tv", "bm3d", "none")
DEFAULT_WEAK_DENOISER = "nlm"
SIMULATE_MODES = ("physical", "seed")
DEFAULT_SIMULATE_MODE = "physical"
DEFAULT_DOSE = 0.02  # Add noise, ipv2 simulate and the phantom: the simulated dose as a fraction of the input's
PANEL_DOSE_RANGE = (0.005, 1.0)  # the Purify panel's slider, whose steps start above 0; --dose takes any in (0, 1]
DEFAULT_STITCH_BLEND_PX = 3  # ipv2m: pixels of body over which the input goes from sim(NDCT) to the uLDCT
MAX_STITCH_BLEND_PX = 32

MASKS_FILE = "masks.nrrd"
TRAIN_INPUT_FILE = "train_input.nrrd"
TRAIN_TARGET_FILE = "train_target.nrrd"
EVAL_LABEL_FILE = "eval_label.nrrd"
REPORT_FILE = "report.json"
PURIFY_OUTPUT_FILES = (MASKS_FILE, TRAIN_INPUT_FILE, TRAIN_TARGET_FILE, EVAL_LABEL_FILE, REPORT_FILE)

# Labels of the masks labelmap.
LABEL_BODY, LABEL_BACKGROUND, LABEL_LUNG = 0, 1, 2

# ipv2 denoise and ipv2 train -----------------------------------------------------------
NETWORKS = ("unet", "redcnn", "dncnn", "restormer")  # the registered models, each with bundled weights
DEFAULT_MODEL = "unet"
CLASSICAL_DENOISERS = ("bm3d", "nlm")  # `ipv2 denoise --model bm3d|nlm`: no network, no torch
DENOISERS = NETWORKS + CLASSICAL_DENOISERS  # what `ipv2 denoise --model` takes besides a checkpoint file
STRENGTHS = ("low", "medium", "high")  # `ipv2 denoise --strength`
DEFAULT_STRENGTH = "medium"
STRENGTH_RANGE = (1.0, 100.0)  # a number instead of a name: the dose multiple the result aims at
STRENGTH_DOSE_MULTIPLES = {"low": 2.0, "medium": 8.0, "high": 32.0}  # what each of STRENGTHS aims at
LOSSES = ("l1", "mse", "l1_grad")  # `ipv2 train --loss`
DEFAULT_LOSS = "l1"
DEFAULT_TRAIN_STEPS = 2000
PANEL_TRAIN_STEPS_RANGE = (1, 1_000_000)  # the Denoise panel's spin box; --steps takes any count from 1

# ipv2 simulate and ipv2 demo -----------------------------------------------------------
KERNELS = ("smooth", "standard", "sharp", "lung")  # reconstruction kernels, smooth to sharp
DEFAULT_KERNEL = "standard"
DEMO_SIZE = 512
DEMO_SLICES = 8

# ipv2 phantom --------------------------------------------------------------------------
# `--variant`: the named acquisitions, whose settings are ipv2.phantom.ACQUISITION_VARIANTS.
PHANTOM_VARIANTS = (
    "default",
    "smooth",
    "sharp",
    "lung-kernel",
    "thin-1mm",
    "thick-5mm",
    "pixel-0.9mm",
    "pixel-0.5mm",
    "fov-padding",
    "cropped",
    "dose-10pct",
)

# Every command -------------------------------------------------------------------------
DEVICES = ("auto", "cpu", "cuda")  # `--device`; "cuda:N" picks one GPU
DEFAULT_DEVICE = "auto"
SEED_RANGE = (0, 2**32 - 1)  # `--seed`: what numpy's and torch's generators all take
PANEL_SEED_RANGE = (0, 2**31 - 1)  # the panels' spin boxes hold a signed 32-bit integer

# What the panels show for each code above; their jobs pass the codes.
CHOICE_LABELS = {
    "ipv1": "IPv1",
    "ipv2": "IPv2",
    "ipv2m": "IPv2, motion-aware",
    "nlm": "Non-local means",
    "tv": "Total variation",
    "bm3d": "BM3D",
    "none": "None",
    "unet": "U-Net",
    "redcnn": "RED-CNN",
    "dncnn": "DnCNN",
    "restormer": "Restormer",
    "low": "Low",
    "medium": "Medium",
    "high": "High",
    "auto": "Automatic (GPU if present)",
    "cpu": "CPU",
    "cuda": "GPU (CUDA)",
}

# Exit codes of `python -m ipv2`.
EXIT_OK = 0
EXIT_USER_ERROR = 2  # an input was refused before any work (ipv2.errors.InputError)
EXIT_CANCELLED = 130  # SIGTERM or Ctrl+C turned into a clean cancel: nothing was written
