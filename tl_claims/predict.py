"""`python -m tl_claims predict`: the top-5 ImageNet classes of photos, offline -- a first demo for teachers.

    python -m tl_claims predict --backbone efficientnet_lite0 cat.jpg
    python -m tl_claims predict --no-preprocess cat.jpg      # raw 0-255 pixels: the wrong-input effect, on real weights
    python -m tl_claims predict --backbone mobilenet_v2 --weights mnv2.h5 cat.jpg   # offline, a local weights file

Each image is decoded as the folder loader decodes it (`tl_claims/data/decode.py`: upright as its EXIF orientation
says, transparency over white, 16-bit scaled, refused above Pillow's pixel limit), resized to N x N (bilinear,
aspect ratio not kept), passed through the backbone's own `preprocess` (unless --no-preprocess) and classified by
the network with its ImageNet head.

Text output: per image a header line, then five lines `index  probability  name`, best first.
`--json` output: a list with one object per image, in argument order:
    [{"image": "cat.jpg", "top5": [{"index": 285, "name": "Egyptian cat", "probability": 0.79}, ...]}, ...]

The 1000 class names ship inside the package, `tl_claims/resources/imagenet_classes.json` (index order; taken from
the ImageNet label list in tensorflow-datasets), so nothing is fetched at run time.
"""

from __future__ import annotations

import argparse
import json
import os
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image

from tl_claims import backbones
from tl_claims.core.command_help import add_command
from tl_claims.core.errors import HarnessError
from tl_claims.data.decode import read_rgb
from tl_claims.resources import resource

CLASS_NAMES_FILE = "imagenet_classes.json"  # package data: tl_claims/resources/
TOP_K = 5


class ImageFileNotFoundError(HarnessError, FileNotFoundError):
    """An image path that does not exist (or is not a file)."""


@lru_cache(maxsize=1)
def imagenet_class_names() -> tuple[str, ...]:
    """The 1000 ImageNet-1k class names, index order (package data; no network)."""
    names = json.loads(resource(CLASS_NAMES_FILE).read_text(encoding="utf-8"))
    if len(names) != 1000:
        raise HarnessError(
            f"the packaged {CLASS_NAMES_FILE} holds {len(names)} class names, expected 1000; reinstall tl-claims"
        )
    return tuple(names)


def load_image(path: str | os.PathLike, image_size: int) -> np.ndarray:
    """RGB uint8 array (image_size, image_size, 3) read by the decoder the folder loader uses (modes, bit depth,
    EXIF orientation, transparency over white, the pixel limit), or an error naming the file."""
    path = Path(path)
    if not path.is_file():
        raise ImageFileNotFoundError(f"image {path} does not exist (or is not a file); check the path")
    rgb = read_rgb(path).resize((image_size, image_size), Image.BILINEAR)
    return np.asarray(rgb, dtype=np.uint8)


def top_k(probabilities: np.ndarray, k: int = TOP_K) -> list[dict]:
    """The k best classes of one probability vector, best first, as plain dicts."""
    names = imagenet_class_names()
    best = np.argsort(probabilities)[::-1][:k]
    return [{"index": int(i), "name": names[i], "probability": float(probabilities[i])} for i in best]


def predict_images(
    paths: list[str], backbone: str, image_size: int, preprocess: bool = True, weights: str = "imagenet"
) -> list[dict]:
    """[{"image": path, "top5": [...]}] per path; every image is read before the (slower) model is loaded."""
    spec = backbones.get(backbone)
    images = np.stack([load_image(path, image_size) for path in paths])
    model = backbones.load(backbone, image_size=image_size, include_top=True, weights=weights)
    inputs = spec.preprocess(images) if preprocess else images.astype(np.float32)
    probabilities = np.asarray(model.predict(inputs, batch_size=16, verbose=0))
    return [{"image": str(path), "top5": top_k(row)} for path, row in zip(paths, probabilities)]


def format_text(results: list[dict], backbone: str, image_size: int, preprocess: bool) -> str:
    input_note = "preprocessed" if preprocess else "raw 0-255 pixels (--no-preprocess)"
    lines = []
    for result in results:
        lines.append(f"{result['image']}  ({backbone}, {image_size} px, {input_note})")
        lines.extend(f"  {c['index']:>4}  {c['probability']:.3f}  {c['name']}" for c in result["top5"])
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    backbone = args.backbone
    image_size = args.image_size or backbones.get(backbone).default_image_size
    results = predict_images(args.images, backbone, image_size, not args.no_preprocess, args.weights)
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print(format_text(results, backbone, image_size, preprocess=not args.no_preprocess))
    return 0


def register(subparsers) -> None:
    parser = add_command(
        subparsers,
        "predict",
        "Print the five ImageNet classes a pretrained backbone sees in each image, offline.",
        [
            "tl-claims predict cat.jpg",
            "tl-claims predict --json cat.jpg dog.png",
            "tl-claims predict --no-preprocess cat.jpg     # raw 0-255 pixels: what skipping preprocess does",
            "tl-claims predict --backbone mobilenet_v2 --weights mnv2.h5 cat.jpg   # a local weights file",
        ],
    )
    parser.add_argument(
        "--backbone", default="efficientnet_lite0", help=f"one of: {', '.join(backbones.names())} (default %(default)s)"
    )
    parser.add_argument("--image-size", type=int, default=None, help="pixels per side (default: the backbone's)")
    parser.add_argument(
        "--weights", default="imagenet", help="'imagenet' (default) or a local weights file with the 1000-class head"
    )
    parser.add_argument("--no-preprocess", action="store_true", help="feed raw 0-255 pixels (shows the wrong input)")
    parser.add_argument("--json", action="store_true", help="print a JSON list, one entry per image")
    parser.add_argument("images", nargs="+", metavar="IMAGE", help="image files (JPEG, PNG, ...)")
    parser.set_defaults(handler=run)
