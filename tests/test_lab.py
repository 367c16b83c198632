"""The lab: arms sharing a stage-1 model start from identical weights, stored models reload bit for bit, the same
seed retrains the same model, and evaluations keep per-image outcomes. On the tiny backbone of tests/conftest.py."""

import shutil

import numpy as np
import pytest

from tl_claims.recipe.lab import Lab
from tl_claims.recipe.options import Stage1Options, Stage2Options, changed
from tl_claims.recipe.scales import SCALES

AT_1E_3 = Stage2Options(learning_rate=1e-3)


@pytest.fixture
def lab(tiny_backbone, shared_data_cache) -> Lab:
    """A smoke-scale lab on the tiny backbone: models stored in a temporary folder, the synthetic data shared."""
    return Lab(SCALES["smoke"].override(backbone=tiny_backbone), shared_data_cache())


def test_stage1_copies_have_identical_weights_and_are_independent(lab):
    first, second = lab.stage1(0), lab.stage1(0)
    assert first.model is not second.model
    assert all(np.array_equal(a, b) for a, b in zip(first.model.get_weights(), second.model.get_weights()))
    first.model.get_layer("logits").kernel.assign_add(np.ones_like(first.model.get_layer("logits").kernel))
    assert np.array_equal(
        second.model.get_layer("logits").kernel.numpy(), lab.stage1(0).model.get_layer("logits").kernel.numpy()
    )


def test_stage1_from_disk_is_identical_to_the_trained_one(lab):
    trained = lab.stage1(0).model.get_weights()
    reloaded = Lab(lab.scale, lab.cache_dir).stage1(0).model.get_weights()
    assert all(np.array_equal(a, b) for a, b in zip(trained, reloaded))


def test_stage2_arms_start_from_the_identical_stage1_model(lab):
    """Two arms at different rates, half the base unfrozen: what they did not train is stage 1's, bit for bit."""
    stage1 = lab.stage1(0)
    for rate in (1e-3, 1e-5):
        stage2 = lab.stage2(0, Stage2Options(learning_rate=rate, fraction=0.5))
        for name in ("conv0", "bn0", "bn1"):  # frozen: the bottom half, and every BatchNorm (policy "frozen")
            for a, b in zip(stage1.base.get_layer(name).get_weights(), stage2.base.get_layer(name).get_weights()):
                assert np.array_equal(a, b), f"{name} differs from stage 1 after stage 2 at {rate}"
        assert not np.array_equal(
            stage1.base.get_layer("conv1").kernel.numpy(), stage2.base.get_layer("conv1").kernel.numpy()
        )


def test_the_same_seed_trains_the_same_model_from_scratch(lab, shared_data_cache):
    """Determinism: a second lab with an empty model cache retrains stage 2 (and its stage 1) bit for bit."""
    other_dir = shared_data_cache()
    first = lab.stage2(1, AT_1E_3).model.get_weights()
    second = Lab(lab.scale, other_dir).stage2(1, AT_1E_3).model.get_weights()
    assert all(np.array_equal(a, b) for a, b in zip(first, second))
    different_seed = lab.stage2(2, AT_1E_3).model.get_weights()
    assert not all(np.array_equal(a, b) for a, b in zip(first, different_seed))


def test_evaluations_keep_per_image_outcomes_and_features(lab):
    evaluation = lab.evaluate(lab.stage1(0), 0)
    _, labels = lab.splits(0).arrays("test")
    assert evaluation.correct.shape == labels.shape and set(np.unique(evaluation.correct)) <= {0.0, 1.0}
    assert evaluation.accuracy == pytest.approx(float(np.mean(evaluation.predictions == labels)))
    assert evaluation.features.shape[0] == len(labels)
    assert lab.evaluate(lab.stage1(0), 0) is evaluation  # memoised per model key


def test_readonly_models_carry_each_classifiers_weights_and_evaluate_it_bit_for_bit(lab):
    """The lab's one built model per architecture, weights swapped in place, against a copy built for each model."""
    from tl_claims.recipe import evaluation

    images, labels = lab.splits(0).arrays("test")
    models = [lab.stage1(0), lab.stage2(0, AT_1E_3), lab.stage1(1), lab.stage2(0)]
    assert lab.readonly(models[0]) is lab.readonly(models[1])  # one build serves the architecture
    for classifier in [*models, models[0]]:  # back to the first: its weights come back
        built = classifier.model.get_weights()
        assert all(np.array_equal(a, b) for a, b in zip(lab.readonly(classifier).model.get_weights(), built))
        own = evaluation.evaluate(classifier.model, images, labels, with_features=True)
        shared = lab.evaluate(classifier, 0)
        assert np.array_equal(shared.predictions, own.predictions) and np.array_equal(shared.features, own.features)
    unknown = lab.stage1(0).model
    assert lab.readonly(type(models[0])(unknown, None, "tiny")).model is unknown  # not the lab's: itself


def test_a_torn_stored_model_is_retrained_not_loaded(lab):
    trained = lab.stage1(0).model.get_weights()
    stored = next((lab.cache_dir / "models").glob("*.weights.h5"))
    stored.write_bytes(stored.read_bytes()[:100])
    again = Lab(lab.scale, lab.cache_dir).stage1(0).model.get_weights()
    assert all(np.array_equal(a, b) for a, b in zip(trained, again))


def test_the_ledger_states_every_stage_a_model_needed_even_when_it_was_memoised(lab):
    """Stage 2 states its stage 1 too; asking again (memoised) states the same budgets again."""
    lab.stage2(0)
    first = list(lab.ledger)
    lab.stage2(0)
    assert [budget.stage for budget in first[-2:]] == ["stage 1", "stage 2"]
    assert lab.ledger[len(first) :] == first[-2:]
    images = len(lab.splits(0).y_train)
    steps_per_epoch = -(-images // lab.scale.batch_size)
    assert first[-1].steps == lab.scale.stage2_epochs * steps_per_epoch


def test_min_steps_trains_a_small_set_for_more_epochs(lab):
    """At a fixed number of steps, a smaller training set gets more epochs: the regime where over-fitting shows."""
    lab.stage1(0, Stage1Options(n_train=2, min_steps=6))
    budget = lab.ledger[-1]
    assert budget.per_class == 2 and budget.steps >= 6
    assert budget.epochs == -(-6 // (budget.steps // budget.epochs))


def test_reused_train_steps_give_the_same_models_bit_for_bit(tiny_backbone, shared_data_cache):
    """training.Trainers: every seed after the first trains on a kept, already traced model; the weights must be
    exactly those of a fresh model compiled per seed, for each recipe that reuses a step."""
    scale = SCALES["smoke"].override(backbone=tiny_backbone, seeds=2)
    reusing, fresh = Lab(scale, shared_data_cache()), Lab(scale, shared_data_cache())
    fresh.trainers = None
    for seed in scale.seeds:
        for lab in (reusing, fresh):
            lab.stage2(seed, Stage2Options(bn_policy="train"))
            lab.scratch(seed)
    for key in reusing._makers:
        for a, b in zip(reusing._trained_weights(key), fresh._trained_weights(key), strict=True):
            assert np.array_equal(a, b), f"{key}: a reused train step changed the weights"
    assert len(reusing.trainers._kept) == 3  # one kept model per recipe: stage 1, stage 2, scratch


def test_a_stage2_model_does_not_depend_on_what_the_lab_did_before(tiny_backbone, shared_data_cache):
    """The same stage 2 whether its stage 1 was trained just now, is memoised, or comes from the store: the training
    data's shuffle is seeded from the global seed at the moment the dataset is made, so that moment must not depend
    on the lab's history."""
    scale = SCALES["smoke"].override(backbone=tiny_backbone)
    cold = Lab(scale, shared_data_cache())
    trained_with_stage1 = cold.stage2(0, AT_1E_3)
    warm = Lab(scale, shared_data_cache())
    warm.stage1(0)
    warm.scratch(0)  # something else in between, moving the global seed
    after_other_work = warm.stage2(0, AT_1E_3)
    for a, b in zip(trained_with_stage1.model.get_weights(), after_other_work.model.get_weights(), strict=True):
        assert np.array_equal(a, b)
    stored_stage1_only = Lab(scale, shared_data_cache())
    stored_stage1_only.stage1(0)
    again = Lab(scale, stored_stage1_only.cache_dir).stage2(0, AT_1E_3)  # stage 1 read from the store
    for a, b in zip(trained_with_stage1.model.get_weights(), again.model.get_weights(), strict=True):
        assert np.array_equal(a, b)


def test_weights_that_left_memory_come_back_identical_from_the_store_or_trained_again(tiny_backbone, shared_data_cache):
    """A lab keeps the weights of its `weights_in_memory` most recently used models (a long run trains hundreds);
    an older model is read back from the store, or trained again where the store lost it, bit for bit."""
    scale = SCALES["smoke"].override(backbone=tiny_backbone, seeds=3)
    roomy, tight = Lab(scale, shared_data_cache()), Lab(scale, shared_data_cache(), weights_in_memory=1)
    for lab in (roomy, tight):
        for seed in scale.seeds:
            lab.stage2(seed, AT_1E_3)
    assert tight.models_in_memory == 1 and roomy.models_in_memory == 6  # below: tight reads the rest back

    def same(first, second) -> bool:
        return all(np.array_equal(a, b) for a, b in zip(first.model.get_weights(), second.model.get_weights()))

    for seed in scale.seeds:
        assert same(roomy.stage1(seed), tight.stage1(seed))
        assert same(roomy.stage2(seed, AT_1E_3), tight.stage2(seed, AT_1E_3))
    shutil.rmtree(tight.cache_dir / "models")  # a store that lost them: the lab trains them again
    assert same(roomy.stage2(0, AT_1E_3), tight.stage2(0, AT_1E_3))


def test_options_spelt_at_their_defaults_are_the_lessons_recipe(lab):
    """Typed options at their default values name the same models as no options at all (the keys leave defaults
    out), and `changed` lists only what a caller set away from the lesson's recipe."""
    spelt = Stage2Options(bn_policy="frozen", fraction=1.0, stage1=Stage1Options(augment=True, min_steps=0))
    assert lab.stage2(0, spelt).key == lab.stage2(0).key
    assert lab.stage1(0, spelt.stage1).key == lab.stage1(0).key
    assert changed(spelt) == {} and changed(Stage1Options()) == {}
    assert changed(Stage2Options(learning_rate=1e-4, stage1=Stage1Options(n_train=2))) == {
        "learning_rate": 1e-4,
        "stage1.n_train": 2,
    }
