"""Input/output at the edges: sample files, atomic writes."""
from gan_eval.io.atomic import atomic_path, save_json, save_npz, write_with
from gan_eval.io.images import to_nchw, to_rgb, to_unit_float
from gan_eval.io.ranges import ValueRange, resolve_range
from gan_eval.io.samples import ArraySource, SampleSource, as_source, check_array, load_array

__all__ = [
    "ArraySource",
    "SampleSource",
    "as_source",
    "atomic_path",
    "check_array",
    "load_array",
    "resolve_range",
    "save_json",
    "save_npz",
    "to_nchw",
    "to_rgb",
    "to_unit_float",
    "ValueRange",
    "write_with",
]
