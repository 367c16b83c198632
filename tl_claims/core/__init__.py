"""Infrastructure every layer may use: errors, paths, quiet TensorFlow, the artefact store, provenance, the
install check, the Markdown table writer."""
