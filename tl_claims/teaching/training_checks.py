"""Teaching checks on what training trains: stage 1 the head only, stage 2 recompiled, BatchNorm frozen, a low rate.

These checks read the compiled state (`Pipeline.rehearsal()`, tl_claims/teaching/rehearsal.py): the variables the
optimizer of the traced training step updates and its rate, so a vanishing gradient never reads as a missing
recompile.
"""

from __future__ import annotations

from tl_claims.teaching.pipeline import CheckFailure, Pipeline

MIN_LR_RATIO = 10.0  # the lesson: fine-tuning 10-100x below the stage-1 rate


def check_stage1_trains_only_head(pipeline: Pipeline) -> None:
    """Stage 1's compiled training step trains head variables only and leaves the base's BN statistics alone.

    Read from the compiled state (the variables the optimizer of the traced step updates), not from moved weights.
    """
    rehearsal = pipeline.rehearsal()
    base_moves = rehearsal.stage1_base_trained + rehearsal.stage1_base_stats_moved
    if base_moves:
        raise CheckFailure(
            "stage1_trains_only_head",
            "base_moves",
            dict(n_changed=len(base_moves), n_total=rehearsal.base_total, example=base_moves[0]),
        )
    if not rehearsal.stage1_head_trained:
        raise CheckFailure("stage1_trains_only_head", "head_frozen", dict(n_head=rehearsal.head_total))


def check_recompiled_after_unfreezing(pipeline: Pipeline) -> None:
    """After the student's stage-2 setup the compiled training step trains variables of the base.

    Read from the compiled state: the optimizer of the step after `unfreeze_and_compile_stage2` must hold base
    variables. Whether a weight moved is not used: a correct fine-tune of a random-weight base at 1e-5 moves nothing.
    """
    rehearsal = pipeline.rehearsal()
    if rehearsal.stage2_base_trainable == 0:
        raise CheckFailure("recompiled_after_unfreezing", "not_unfrozen", {})
    if not rehearsal.stage2_base_trained:
        raise CheckFailure(
            "recompiled_after_unfreezing", "not_recompiled", dict(n_trainable=rehearsal.stage2_base_trainable)
        )


def check_batchnorm_frozen_in_finetuning(pipeline: Pipeline) -> None:
    """One fine-tuning step leaves the base's BatchNorm moving statistics unchanged (inference mode on small data)."""
    rehearsal = pipeline.rehearsal()
    if rehearsal.bn_changed:
        values = dict(n_changed=len(rehearsal.bn_changed), n_total=rehearsal.bn_total, example=rehearsal.bn_changed[0])
        note = "call_note" if rehearsal.calls_base_with_training_false else ""
        raise CheckFailure("batchnorm_frozen_in_finetuning", "updates", values, {"call_note": note})


def check_finetune_lr_10x_lower(pipeline: Pipeline) -> None:
    """The optimizer's rate after the stage-2 setup is at least 10x below the stage-1 rate (schedules at step 0)."""
    rehearsal = pipeline.rehearsal()
    lr1, lr2 = rehearsal.stage1_lr, rehearsal.stage2_lr
    if lr2 * MIN_LR_RATIO > lr1 * (1 + 1e-6):
        raise CheckFailure("finetune_lr_10x_lower", "too_high", dict(lr1=lr1, lr2=lr2, ratio=lr1 / lr2))
