"""The pytest plugin that runs the claims: options, selection, the session and the terminal summary."""
