"""tl-claims: checks what a transfer-learning lesson claims against what actually happens."""

# Importing tl_claims has no side effects (the pytest plugin is installed for every project); TensorFlow's start-up
# lines are quieted where tl-claims is activated: tl_claims.core.quiet.quiet_tensorflow().

__version__ = "0.1.0"
