"""Files that ship inside the package, read with `importlib.resources` so they work from a wheel, a zip or a checkout.

- `imagenet_classes.json`: the 1000 ImageNet-1k class names in index order (`python -m tl_claims predict`).
- `student-contract.md` and `student-contract.es.md`: what a student's pipeline provides and what the checks and
  grader do, in English and in Spanish (`python -m tl_claims docs contract [--lang es]`; the teaching messages point
  there, each language to its own). The Spanish one is the only Spanish copy: docs/es/ links to it.
"""

from importlib.resources import files
from importlib.resources.abc import Traversable

DOCS = {"contract": {"en": "student-contract.md", "es": "student-contract.es.md"}}  # document -> language -> file
DOCS_LANGUAGES = ("en", "es")  # the teaching messages' languages (tl_claims.teaching.messages.LANGUAGES, a layer up)


def resource(name: str) -> Traversable:
    """The packaged file `name` (it may live in a zip: read it with `.read_text()`, do not assume a path)."""
    return files(__name__).joinpath(name)


def read_text(name: str) -> str:
    return resource(name).read_text(encoding="utf-8")
