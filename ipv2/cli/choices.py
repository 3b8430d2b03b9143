"""The names the parser offers, written out so that building it (`ipv2 --help`, an argument
error) imports no torch: each copies a constant of the module that defines it, and
tests/test_robustness_imports.py keeps every copy equal to its source."""

MODEL_NAMES = ("unet", "redcnn", "dncnn", "restormer")  # ipv2.models.registry.MODEL_REGISTRY
DEFAULT_MODEL = "unet"  # ipv2.models.registry
LOSSES = ("l1", "mse", "l1_grad")  # ipv2.training.losses
DEFAULT_TRAIN_STEPS = 2000  # ipv2.training.config.TrainConfig.DEFAULT_STEPS
CLASSICAL_DENOISERS = ("bm3d", "nlm")  # ipv2.classical
STRENGTHS = ("low", "medium", "high")  # ipv2.models.conditioning.STRENGTHS
DEFAULT_STRENGTH = "medium"  # ipv2.models.conditioning
STRENGTH_RANGE = (0.25, 3.0)  # ipv2.models.conditioning
SIMULATE_MODES = ("physical", "seed")  # ipv2.simulate.MODES
KERNELS = ("smooth", "standard", "sharp", "lung")  # ipv2.simulate.kernels
DEFAULT_KERNEL = "standard"  # ipv2.simulate.kernels
DEMO_SIZE = 512  # ipv2.demo.DEFAULT_SIZE
DEMO_SLICES = 8  # ipv2.demo.DEFAULT_SLICES
PURIFY_MODES = ("ipv1", "ipv2")  # ipv2.purify.options.MODES
PURIFY_SIMULATE_MODES = ("physical", "seed")  # ipv2.purify.options.SIMULATE_MODES
WEAK_DENOISERS = ("nlm", "tv", "bm3d", "none")  # ipv2.weak
DEFAULT_WEAK_DENOISER = "nlm"  # ipv2.weak
