"""Input/output at the edges: sample files, atomic writes."""
from gan_eval.io.atomic import atomic_path, save_json, save_npz, write_with
from gan_eval.io.images import detect_range, to_nchw, to_rgb, to_unit_float
from gan_eval.io.samples import ArraySource, SampleSource, as_source, check_array, load_array

__all__ = [
    "ArraySource",
    "SampleSource",
    "as_source",
    "atomic_path",
    "detect_range",
    "check_array",
    "load_array",
    "save_json",
    "save_npz",
    "to_nchw",
    "to_rgb",
    "to_unit_float",
    "write_with",
]
