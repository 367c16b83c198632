"""Files that ship inside the package, read with `importlib.resources` so they work from a wheel, a zip or a checkout.

- `imagenet_classes.json`: the 1000 ImageNet-1k class names in index order (`python -m tl_claims predict`).
- `student-contract.md`: what a student's pipeline provides and what the checks and grader do
  (`python -m tl_claims docs contract`; the teaching messages point there).
"""

from importlib.resources import files
from importlib.resources.abc import Traversable

DOCS = {"contract": "student-contract.md"}


def resource(name: str) -> Traversable:
    """The packaged file `name` (it may live in a zip: read it with `.read_text()`, do not assume a path)."""
    return files(__name__).joinpath(name)


def read_text(name: str) -> str:
    return resource(name).read_text(encoding="utf-8")
