"""Every sentence a student reads, one table per language (English and Spanish, the lesson's language).

A check failure is four parts: what was seen, the rule, why it matters, and the fix. The tables hold templates
filled with `str.format` fields; `render` puts the parts together. The grader's and the sandbox's other sentences
are `TEXTS` (tl_claims/teaching/texts.py), read with `text`. Adding a language means adding one entry per table.
"""

from dataclasses import dataclass

from tl_claims.teaching.texts import TEXTS

LANGUAGES = ("en", "es")


@dataclass(frozen=True)
class Message:
    seen: str
    rule: str
    why: str
    fix: str


LABELS = {
    "en": {"seen": "seen", "rule": "rule", "why": "why", "fix": "fix"},
    "es": {"seen": "visto", "rule": "regla", "why": "por qué", "fix": "arreglo"},
}

TITLES = {
    "en": {
        "preprocessing_matches_backbone": "preprocessing does not match the backbone",
        "augmentation_inactive_at_inference": "augmentation (or dropout) is active at inference",
        "augmentation_absent_from_val": "augmentation is applied to the validation/test data",
        "stage1_trains_only_head": "stage 1 does not train only the head",
        "recompiled_after_unfreezing": "stage 2 does not train the base",
        "batchnorm_frozen_in_finetuning": "BatchNorm updates its moving statistics while fine-tuning",
        "finetune_lr_10x_lower": "the fine-tuning learning rate is too high",
    },
    "es": {
        "preprocessing_matches_backbone": "el preprocesamiento no coincide con el modelo base",
        "augmentation_inactive_at_inference": "el aumento de datos (o el dropout) está activo en inferencia",
        "augmentation_absent_from_val": "el aumento de datos se aplica a los datos de validación/test",
        "stage1_trains_only_head": "la etapa 1 no entrena solo la cabeza",
        "recompiled_after_unfreezing": "la etapa 2 no entrena la base",
        "batchnorm_frozen_in_finetuning": "BatchNorm actualiza sus estadísticas móviles durante el fine-tuning",
        "finetune_lr_10x_lower": "la tasa de aprendizaje del fine-tuning es demasiado alta",
    },
}

KERAS3_BN_PITFALL = {
    "en": (
        "Keras 3 pitfall: calling the base as base(x, training=False) does NOT keep BatchNorm in inference mode "
        "under fit: the training=True that fit passes wins and the moving statistics drift "
        "(keras-team/keras#20285). What does work is a BatchNormalization layer with trainable=False: in Keras 3 "
        "it always runs in inference mode."
    ),
    "es": (
        "Trampa de Keras 3: llamar a la base como base(x, training=False) NO mantiene BatchNorm en modo inferencia "
        "durante fit: gana el training=True que pasa fit y las estadísticas móviles se corren "
        "(keras-team/keras#20285). Lo que sí funciona es una capa BatchNormalization con trainable=False: en "
        "Keras 3 siempre corre en modo inferencia."
    ),
}

# The teaching checks' names in the order they run (tl_claims/teaching/checks.py's CHECKS, kept in step by
# tests/teaching/test_checks.py): what reports the checks without running them (`pytest --student`'s process, whose
# child runs them) reads the names here and never imports Keras, which costs seconds.
CHECK_NAMES = tuple(TITLES["en"])

BN_FIX_CODE = (
    "for layer in base.layers:\n"
    "          if isinstance(layer, keras.layers.BatchNormalization):\n"
    "              layer.trainable = False"
)

CHECKS = {
    "en": {
        ("preprocessing_matches_backbone", "range"): Message(
            seen="images in 0-255 reach the base '{base}' as values in [{seen_low:.3g}, {seen_high:.3g}]{hint}.",
            rule="{backbone} expects its input in [{low:.3g}, {high:.3g}] ({expects}).",
            why="The pretrained filters were learned on inputs in that range; any other range shifts every "
            "activation, so the ImageNet features are lost and transfer learning loses most of its advantage.",
            fix="Apply the backbone's own preprocessing exactly once, between the images and the base: {fix_hint}.",
        ),
        ("augmentation_inactive_at_inference", "nondeterministic"): Message(
            seen="two inference calls {call} on the same {n} images gave different {where} (largest difference "
            "{delta:.3g}).",
            rule="At inference the model is deterministic: augmentation layers and dropout are off.",
            why="Predictions would be made on randomly transformed images: they change from call to call, and "
            "accuracy measured this way is noisy and lower than what the model really does.",
            fix="Augment with Keras' augmentation layers (RandomFlip, RandomRotation, RandomZoom...), which are "
            "identity when training=False, instead of random ops that ignore the flag (tf.image.random_* or "
            "keras.random in a Lambda or custom layer); or move such ops into the train dataset.",
        ),
        ("augmentation_absent_from_val", "changes"): Message(
            seen="two passes over the validation dataset gave different images ({n_changed} of {n} images differ).",
            rule="Augmentation only in training: the val/test pipeline gives the same images on every pass.",
            why="Validation accuracy is then measured on transformed images: it is noisy from epoch to epoch and "
            "biased, so model selection and early stopping follow noise instead of the model.",
            fix="Map augmentation over the train dataset only (or put it as layers inside the model); build "
            "val/test with batching and preprocessing only.",
        ),
        ("stage1_trains_only_head", "base_moves"): Message(
            seen="one stage-1 training step changed {n_changed} of {n_total} variables of the base (e.g. {example}).",
            rule="Stage 1 (head warm-up) trains only the new head: the base is frozen (base.trainable = False) "
            "before compile.",
            why="The new head starts random, so its first gradients are large and random; at the warm-up rate they "
            "wreck the pretrained features before the head has learned anything.",
            fix="Set base.trainable = False in build_model (or before model.compile in compile_stage1).",
        ),
        ("stage1_trains_only_head", "head_frozen"): Message(
            seen="one stage-1 training step changed none of the head's variables ({n_head} trainable variables "
            "outside the base).",
            rule="Stage 1 (head warm-up) trains the new head while the base stays frozen.",
            why="With nothing trainable, stage 1 only burns time: the classifier keeps its random weights.",
            fix="Freeze only the base (base.trainable = False), not the whole model, and compile after freezing.",
        ),
        ("recompiled_after_unfreezing", "not_unfrozen"): Message(
            seen="after unfreeze_and_compile_stage2 the base has no trainable variables.",
            rule="Stage 2 unfreezes the base (base.trainable = True) and compiles again.",
            why="With the base still frozen, 'fine-tuning' only keeps training the head: stage 2 cannot improve "
            "the features.",
            fix="In unfreeze_and_compile_stage2: base.trainable = True, then model.compile(...) with a low "
            "learning rate.",
        ),
        ("recompiled_after_unfreezing", "not_recompiled"): Message(
            seen="base.trainable is True ({n_trainable} trainable variables), but one training step after stage 1 "
            "moved none of the base's weights.",
            rule="After changing `trainable` you compile again: Keras fixes which variables it trains when the "
            "training function is first built (at compile/fit), not when you flip the flag.",
            why="Without compile the optimizer keeps updating the head only: stage 2 silently fine-tunes nothing.",
            fix="Call model.compile(optimizer=keras.optimizers.Adam(1e-5), loss=..., metrics=...) after "
            "base.trainable = True; changing model.optimizer.learning_rate is not enough.",
        ),
        ("batchnorm_frozen_in_finetuning", "updates"): Message(
            seen="one fine-tuning step changed the moving mean/variance of {n_changed} of {n_total} "
            "BatchNormalization layers in the base (e.g. {example}){call_note}.",
            rule="While fine-tuning on small data, BatchNorm stays in inference mode: its moving statistics do "
            "not change. {pitfall}",
            why="Small (and augmented) batches give noisy statistics; mixing them into the ImageNet moving averages "
            "shifts every normalised activation and erases what pretraining learned (the lesson's BN gotcha).",
            fix="After base.trainable = True, freeze the BatchNorm layers and then compile:\n      {code}",
        ),
        ("finetune_lr_10x_lower", "too_high"): Message(
            seen="stage-1 learning rate {lr1:.3g}, fine-tuning learning rate {lr2:.3g}: only {ratio:.3g}x lower.",
            rule="The fine-tuning learning rate is at least 10x below the stage-1 rate (the lesson: 1e-3 then 1e-5, "
            "10-100x lower).",
            why="At the head's rate the first fine-tuning steps make large updates to the pretrained weights: "
            "catastrophic forgetting, and accuracy can end below stage 1's.",
            fix="Compile stage 2 with a low rate, e.g. keras.optimizers.Adam(1e-5) (1e-4 at most after 1e-3).",
        ),
    },
    "es": {
        ("preprocessing_matches_backbone", "range"): Message(
            seen="imágenes en 0-255 llegan a la base '{base}' como valores en [{seen_low:.3g}, {seen_high:.3g}]{hint}.",
            rule="{backbone} espera su entrada en [{low:.3g}, {high:.3g}] ({expects}).",
            why="Los filtros preentrenados se aprendieron con entradas en ese rango; otro rango desplaza todas las "
            "activaciones, se pierden las características de ImageNet y el transfer learning pierde casi toda su "
            "ventaja.",
            fix="Aplicá el preprocesamiento propio del modelo base exactamente una vez, entre las imágenes y la "
            "base: {fix_hint}.",
        ),
        ("augmentation_inactive_at_inference", "nondeterministic"): Message(
            seen="dos llamadas de inferencia {call} sobre las mismas {n} imágenes dieron {where} distintos (mayor "
            "diferencia {delta:.3g}).",
            rule="En inferencia el modelo es determinista: el aumento de datos y el dropout están apagados.",
            why="Las predicciones se harían sobre imágenes transformadas al azar: cambian de una llamada a otra, y "
            "la exactitud medida así es ruidosa y menor que la real.",
            fix="Aumentá los datos con las capas de Keras (RandomFlip, RandomRotation, RandomZoom...), que no "
            "cambian nada con training=False, en lugar de operaciones aleatorias que ignoran ese argumento "
            "(tf.image.random_* o keras.random en una Lambda o en una capa propia); o pasá esas operaciones al "
            "dataset de entrenamiento.",
        ),
        ("augmentation_absent_from_val", "changes"): Message(
            seen="dos pasadas por el dataset de validación dieron imágenes distintas ({n_changed} de {n} imágenes "
            "difieren).",
            rule="Aumento de datos solo en el entrenamiento: el pipeline de validación/test da las mismas imágenes "
            "en cada pasada.",
            why="La exactitud de validación se mide entonces sobre imágenes transformadas: ruidosa de época a época "
            "y sesgada, así que la selección de modelo y el early stopping siguen al ruido.",
            fix="Aplicá el aumento de datos solo al dataset de entrenamiento (o como capas dentro del modelo); armá "
            "validación/test solo con batches y preprocesamiento.",
        ),
        ("stage1_trains_only_head", "base_moves"): Message(
            seen="un paso de entrenamiento de la etapa 1 cambió {n_changed} de {n_total} variables de la base "
            "(p. ej. {example}).",
            rule="La etapa 1 (calentamiento de la cabeza) entrena solo la cabeza nueva: la base se congela "
            "(base.trainable = False) antes de compilar.",
            why="La cabeza nueva arranca al azar: sus primeros gradientes son grandes y aleatorios y, con la tasa de "
            "aprendizaje del calentamiento, destruyen las características preentrenadas antes de que la cabeza "
            "aprenda algo.",
            fix="Poné base.trainable = False en build_model (o antes de model.compile en compile_stage1).",
        ),
        ("stage1_trains_only_head", "head_frozen"): Message(
            seen="un paso de entrenamiento de la etapa 1 no cambió ninguna variable de la cabeza ({n_head} variables "
            "entrenables fuera de la base).",
            rule="La etapa 1 entrena la cabeza nueva mientras la base queda congelada.",
            why="Sin nada entrenable, la etapa 1 solo gasta tiempo: el clasificador conserva sus pesos al azar.",
            fix="Congelá solo la base (base.trainable = False), no el modelo entero, y compilá después de congelar.",
        ),
        ("recompiled_after_unfreezing", "not_unfrozen"): Message(
            seen="después de unfreeze_and_compile_stage2 la base no tiene variables entrenables.",
            rule="La etapa 2 descongela la base (base.trainable = True) y vuelve a compilar.",
            why="Con la base congelada, el 'fine-tuning' solo sigue entrenando la cabeza: la etapa 2 no puede "
            "mejorar las características.",
            fix="En unfreeze_and_compile_stage2: base.trainable = True y después model.compile(...) con una tasa de "
            "aprendizaje baja.",
        ),
        ("recompiled_after_unfreezing", "not_recompiled"): Message(
            seen="base.trainable es True ({n_trainable} variables entrenables), pero un paso de entrenamiento "
            "después de la etapa 1 no movió ningún peso de la base.",
            rule="Después de cambiar `trainable` hay que volver a compilar: Keras fija qué variables entrena cuando "
            "arma la función de entrenamiento (en compile/fit), no cuando cambiás el atributo.",
            why="Sin compile el optimizador sigue actualizando solo la cabeza: la etapa 2 no hace fine-tuning de "
            "nada, en silencio.",
            fix="Llamá a model.compile(optimizer=keras.optimizers.Adam(1e-5), loss=..., metrics=...) después de "
            "base.trainable = True; cambiar model.optimizer.learning_rate no alcanza.",
        ),
        ("batchnorm_frozen_in_finetuning", "updates"): Message(
            seen="un paso de fine-tuning cambió la media/varianza móvil de {n_changed} de {n_total} capas "
            "BatchNormalization de la base (p. ej. {example}){call_note}.",
            rule="Durante el fine-tuning con pocos datos, BatchNorm queda en modo inferencia: sus estadísticas "
            "móviles no cambian. {pitfall}",
            why="Batches chicos (y aumentados) dan estadísticas ruidosas; mezclarlas con los promedios móviles de "
            "ImageNet desplaza todas las activaciones normalizadas y borra lo aprendido en el preentrenamiento "
            "(la trampa de BatchNorm de la clase).",
            fix="Después de base.trainable = True, congelá las capas BatchNorm y recién entonces "
            "compilá:\n      {code}",
        ),
        ("finetune_lr_10x_lower", "too_high"): Message(
            seen="tasa de aprendizaje de la etapa 1 {lr1:.3g}, del fine-tuning {lr2:.3g}: solo {ratio:.3g}x más baja.",
            rule="La tasa de aprendizaje del fine-tuning es al menos 10x menor que la de la etapa 1 (la clase: 1e-3 "
            "y después 1e-5, entre 10 y 100 veces más baja).",
            why="Con la tasa de la cabeza, los primeros pasos de fine-tuning hacen cambios grandes en los pesos "
            "preentrenados: olvido catastrófico, y la exactitud puede terminar por debajo de la de la etapa 1.",
            fix="Compilá la etapa 2 con una tasa baja, p. ej. keras.optimizers.Adam(1e-5) (1e-4 como máximo "
            "después de 1e-3).",
        ),
    },
}


def check_language(lang: str) -> str:
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; choose one of {LANGUAGES}")
    return lang


def text(lang: str, key: str, **values: object) -> str:
    return TEXTS[check_language(lang)][key].format(**values)


def render(lang: str, check: str, case: str, values: dict, text_fields: dict[str, str] | None = None) -> str:
    """The four-part message of a failed check: title, then seen / rule / why / fix, one per line.

    `text_fields` maps a template field to a key of TEXTS (e.g. {"hint": "hint_raw"}), filled in `lang`; "" leaves
    the field empty.
    """
    lang = check_language(lang)
    fields = {"pitfall": KERAS3_BN_PITFALL[lang], "code": BN_FIX_CODE, **values}
    for field, key in (text_fields or {}).items():
        fields[field] = text(lang, key, **fields) if key else ""
    message = CHECKS[lang][(check, case)]
    labels = LABELS[lang]
    lines = [f"[{check}] {TITLES[lang][check]}"]
    for part in ("seen", "rule", "why", "fix"):
        lines.append(f"  {labels[part] + ':':<9} {getattr(message, part).format(**fields)}")
    return "\n".join(lines)
