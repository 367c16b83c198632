"""Teaching: checks on a student's own pipeline, the `--student` / `--homework` pytest options, and the grader."""
