"""Differential learning rates: one rate per group of variables (lesson: early layers 1e-5, late layers 1e-4).

Keras has no per-layer learning rate (keras-team/keras#21741). Every built-in Keras optimizer computes a variable's
step in `update_step(gradient, variable, learning_rate)`, and the step is proportional to `learning_rate` (Adam,
SGD with or without momentum, RMSprop, ...). So a per-group rate is exactly: call that method with the group's
rate. `GroupRatesMixin` does this and nothing else; everything else (state, `fit`, distribution) stays Keras' own.

    optimizer = GroupRatesAdam([(early_variables, 1e-5), (late_variables, 1e-4)])
    model.compile(optimizer=optimizer, ...)

Every variable the optimizer updates must belong to a group: a forgotten variable is an error at the first step,
not a silent default rate. These optimizers are built for one model's variables and are not serialisable.
"""

from collections.abc import Sequence

import keras

VariableGroups = Sequence[tuple[Sequence[keras.Variable], float]]


class GroupRatesMixin:
    """Runs each variable's update at its group's learning rate; put it before a Keras optimizer class."""

    def __init__(self, groups: VariableGroups, **options) -> None:
        if not groups:
            raise ValueError("give at least one (variables, learning_rate) group")
        rates = [float(rate) for _, rate in groups]
        if min(rates) <= 0:
            raise ValueError(f"learning rates must be positive; got {rates}")
        # The optimizer's own rate is the largest group rate; each group runs at a fixed fraction of it, so a
        # learning-rate schedule set on the optimizer later would scale every group alike.
        super().__init__(learning_rate=max(rates), **options)
        self._rate_scales: dict = {}
        for variables, rate in groups:
            for variable in variables:
                key = self._var_key(variable)
                if key in self._rate_scales:
                    raise ValueError(f"variable {variable.path} is in more than one learning-rate group")
                self._rate_scales[key] = float(rate) / max(rates)

    def group_rate(self, variable: keras.Variable) -> float:
        """The learning rate this variable trains at (with the optimizer's current base rate)."""
        return self._scale_of(variable) * float(keras.ops.convert_to_numpy(self.learning_rate))

    def _scale_of(self, variable) -> float:
        try:
            return self._rate_scales[self._var_key(variable)]
        except KeyError:
            name = getattr(variable, "path", None) or getattr(variable, "name", variable)
            raise ValueError(
                f"variable {name} is in no learning-rate group; give every trained variable a group"
            ) from None

    def update_step(self, gradient, variable, learning_rate):
        return super().update_step(gradient, variable, learning_rate * self._scale_of(variable))


class GroupRatesAdam(GroupRatesMixin, keras.optimizers.Adam):
    """Adam with one learning rate per variable group."""


class GroupRatesSGD(GroupRatesMixin, keras.optimizers.SGD):
    """SGD with one learning rate per variable group (exact per-group steps: what the unit test checks)."""
