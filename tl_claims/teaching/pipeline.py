"""A student's pipeline, built on probe data: what every teaching check inspects, and the failure a check raises.

Its own module because both kinds of check (`input_checks`, `training_checks`) need it and the registry (`checks`)
imports both. The student's objects are never changed. The tensor entering the base is recorded at the
base's own call (`capturing_calls`), so functional, Sequential and subclassed models are seen alike (every model is
called once on a probe batch when built, so a subclassed one has its variables).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import keras

from tl_claims.core.errors import HarnessError
from tl_claims.teaching import messages
from tl_claims.teaching.rehearsal import Rehearsal, rehearse
from tl_claims.teaching.student import ContractError, Student, StudentConfig, load_student, probe_config


class CheckFailure(HarnessError, AssertionError):
    """A check that did not hold; `render(lang)` gives the four-part message (seen, rule, why, fix)."""

    def __init__(
        self, check: str, case: str, values: dict, text_fields: dict[str, str] | None = None, lang: str = "en"
    ) -> None:
        super().__init__(check)
        self.check, self.case, self.values, self.text_fields, self.lang = check, case, values, text_fields, lang

    def render(self, lang: str | None = None) -> str:
        return messages.render(lang or self.lang, self.check, self.case, self.values, self.text_fields)

    def __str__(self) -> str:
        return self.render()


@dataclass(eq=False)
class Pipeline:
    """A student's pipeline, built: the stage-1 model and its base (compiled), and the train / val datasets.

    The model is called once on a probe batch before anything inspects it, so a subclassed model has its variables.
    """

    student: Student
    config: StudentConfig
    model: keras.Model
    base: keras.Model
    train: object  # tf.data.Dataset
    val: object
    _rehearsal: Rehearsal | None = field(default=None, repr=False)

    @classmethod
    def build(cls, student: Student | object, config: StudentConfig | None = None) -> Pipeline:
        """Run the student's builders on `config` (default: the tiny random probe data at 32 px)."""
        student = student if isinstance(student, Student) else load_student(student)
        config = config or probe_config()
        keras.utils.set_random_seed(config.seed)
        train, val = student.build_datasets(config)
        images = first_images(val)
        model, base = build_called(student, config, images)
        student.compile_stage1(model, base)
        return cls(student, config, model, base, train, val)

    def twin(self) -> tuple[keras.Model, keras.Model]:
        """A fresh model from the student's builder, compiled for stage 1, with the student's weights."""
        model, base = build_called(self.student, self.config, self.first_batch("val")[0])
        self.student.compile_stage1(model, base)
        model.set_weights(self.model.get_weights())
        return model, base

    def first_batch(self, split: str) -> tuple:
        images, labels = next(iter(getattr(self, split)))[:2]
        return images, labels

    def rehearsal(self) -> Rehearsal:
        if self._rehearsal is None:
            self._rehearsal = rehearse(self)
        return self._rehearsal

    def use_rehearsal(self, rehearsal: Rehearsal) -> None:
        """Take the training facts from the student's real training (the homework's first two phases, read the
        same way) instead of rehearsing: the homework child then traces the training steps twice less."""
        self._rehearsal = rehearsal


def first_images(dataset) -> object:
    return next(iter(dataset))[0]


def build_called(student: Student, config: StudentConfig, images) -> tuple[keras.Model, keras.Model]:
    """The student's model and base, called once in inference mode so that every layer is built (subclassed too)."""
    model, base = student.build_model(config)
    with capturing_calls(base) as calls:
        model(images, training=False)
    if not calls:
        raise ContractError(messages.text(student.lang, "contract_base_not_called"))
    return model, base


@contextmanager
def capturing_calls(layer: keras.layers.Layer) -> Iterator[list]:
    """Records the first argument of every call of `layer` while inside the block, whatever kind of model calls it.

    The layer's class is swapped for a subclass whose `__call__` records its input, and swapped back afterwards: no
    functional graph is needed, so a subclassed model that calls the base in `call()` is seen the same way.
    """
    seen: list = []
    original = type(layer)

    class Capturing(original):  # type: ignore[misc, valid-type]
        def __call__(self, *args, **kwargs):
            seen.append(args[0] if args else kwargs.get("inputs"))
            return super().__call__(*args, **kwargs)

    object.__setattr__(layer, "__class__", Capturing)
    try:
        yield seen
    finally:
        object.__setattr__(layer, "__class__", original)
