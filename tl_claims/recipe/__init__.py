"""The training recipe: scales (presets), stages, optimizers, the lab that memoises models, and the measures
that claims read off them."""
