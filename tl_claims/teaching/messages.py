"""Every sentence a student reads, one table per language (English and Spanish, the lesson's language).

A check failure is four parts: what was seen, the rule, why it matters, and the fix. The tables hold templates
filled with `str.format` fields; `render` puts the parts together. Adding a language means adding one entry per table.
"""

from dataclasses import dataclass

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

# Short phrases that fill the templates above, and the contract and homework sentences.
TEXTS = {
    "en": {
        "hint_raw": " - these look like raw 0-255 pixels: no preprocessing at all",
        "hint_divided": " - these look like pixels divided by 255",
        "hint_double": " - these look like pixels scaled twice",
        "expects_0_255": "it rescales internally: feed it 0-255 pixels",
        "expects_scaled": "its own preprocess_input maps 0-255 to this range",
        "fix_0_255": "{backbone} rescales inside the network, so feed it 0-255 pixels and remove your "
        "Rescaling(1/255) or `/ 255` (keras.applications' preprocess_input is a pass-through for it)",
        "fix_scaled": "{backbone} needs {expression}, i.e. {layer}; add it once, e.g. as a Rescaling layer, and "
        "remove any other scaling",
        "call_note": " - although the model calls the base with training=False",
        "where_base_input": "images entering the base",
        "where_output": "outputs",
        "status_passed": "passed",
        "status_failed": "failed",
        "status_error": "error",
        "contract_import": "could not import the student module {path}: {error}",
        "contract_missing": "{name} is missing from {module}: the contract needs {needs}.{suggestion} "
        "The contract: `python -m tl_claims docs contract`.",
        "contract_suggestion": " Did you mean to name {found!r} {name!r}?",
        "contract_not_callable": "{name} in {module} must be a function ({needs}); it is a {kind}.",
        "contract_signature": "{name} in {module} must take {needs}; yours is {name}{signature}.",
        "contract_backbone": "BACKBONE = {value!r} in {module} is not a known backbone; use one of: {choices}.",
        "contract_returns": "{name}(...) in {module} must return {needs}; it returned {got}.",
        "contract_base_outside": "build_model returned a base that is not a layer of the model: return the base "
        "object you called inside the model, e.g. `x = base(x)` ... `return model, base`.",
        "contract_not_python": "neither a Python file nor a notebook: give the .py or .ipynb file that implements "
        "the student contract (`python -m tl_claims docs contract`).",
        "at_line": "{file}, line {line}",
        "step_startup": "start-up",
        "step_import": "the import of your file",
        "step_build": "the building of the pipeline (build_datasets, build_model, compile_stage1)",
        "step_check": "the check {check}",
        "step_homework": "the homework at {scale} scale",
        "needs_BACKBONE": "a backbone name, e.g. BACKBONE = 'efficientnet_lite0'",
        "needs_build_datasets": "build_datasets(config) -> (train, val)",
        "needs_build_model": "build_model(config) -> (model, base)",
        "needs_compile_stage1": "compile_stage1(model, base)",
        "needs_unfreeze_and_compile_stage2": "unfreeze_and_compile_stage2(model, base)",
        "returns_datasets": "(train, val), two tf.data.Dataset of (images, labels)",
        "returns_model": "(model, base), two keras.Model",
        "got_value": "a {kind}",
        "got_sequence": "a {kind} of {n}: ({items})",
        "at_cell": "{file}, cell {cell}, line {line}",
        "notebook_not_json": "not a notebook: the file is not valid JSON ({error}).",
        "notebook_no_cells": "not a notebook: the file has no list of cells.",
        "notebook_format": "notebook format {version!r}: save it again from Jupyter or Colab (format 4).",
        "notebook_skipped": "{file}: {count} IPython line(s) left out, they are not Python: {lines}.",
        "notebook_skipped_line": "cell {cell}, line {line}: {text}",
        "student_exit": "{name} called sys.exit({code!r}): a student function must return, never end the program.",
        "student_timeout": "{name} did not return within {seconds:g} s (the limit per call of a student function; "
        "set it with --call-timeout): look for an endless loop or training that should not run here.",
        "child_crashed": "the checks stopped during {step}: the process running your code ended with exit status "
        "{status} before reporting (os._exit, a crash, or running out of memory in your code). {output}",
        "child_call_timeout": "{name} did not return within {seconds:g} s (the limit per call of a student "
        "function; set it with --call-timeout), and the operation it was in could not be interrupted (a blocked "
        "TensorFlow op, or a signal your code blocked): the process running your code was ended.",
        "child_timeout": "the checks stopped during {step}: the process running your code passed its overall "
        "limit of {seconds:g} s and was ended.",
        "child_missing": "the check did not run (the process running your code reported no result for it, e.g. "
        "because your code changed the harness's objects).",
        "not_run_after": "not run: stopped by the problem reported in {check}.",
        "homework_checks_failed": "teaching checks that did not pass: {checks} (run pytest --student on the file "
        "for the explanations).",
        "homework_empty_folder": "no student .py or .ipynb file in this folder (files starting with _ or test_ "
        "are skipped).",
        "same_error": "not run separately: the same error as in {check} (reported once there).",
        "last_output": "Its last output: {tail}",
        "contract_no_file": "no such file; give the path of a Python file that implements the student contract "
        "(`python -m tl_claims docs contract`).",
        "contract_base_not_called": "the base is not called on the model's input: build the model as `x = base(x)` "
        "inside it and return that same base from build_model.",
        "contract_elements": "{name}(...) in {module} must give datasets of (images, labels) pairs; its elements "
        "are {got}.",
        "homework_rows": "homework at {scale} scale: phase 1 {phase1:.3f}, phase 2 {phase2:.3f}, from scratch "
        "{scratch:.3f} (test accuracy, mean over {seeds} seed(s))",
        "homework_two_stage": "phase 2 must beat phase 1 by at least {need:.0f} pp (the lesson's acceptance "
        "criterion); measured {delta:+.1f} pp. Fine-tune longer or at a somewhat higher (still 10x lower) rate, "
        "and keep BatchNorm frozen.",
        "homework_lesson_literal": "the lesson's code as written (exercises 4-5: recompile at 1e-5, base(x, "
        "training=False)) on the same data: phase 1 {phase1:.3f}, phase 2 {phase2:.3f} ({delta:+.1f} pp): {verdict}",
        "homework_criterion_met": "the criterion is met",
        "homework_criterion_missed": "the criterion is missed (on Keras 3 that call form does not freeze BatchNorm)",
        "homework_scratch": "transfer learning must beat training from scratch by at least {need:.0f} pp ('por "
        "mucho margen', read as in the transfer_vs_scratch claim); measured {delta:+.1f} pp. Check the "
        "preprocessing and that build_model passes config.weights to the base.",
        # The grading of a class: the smoke-scale phrase, the feedback page (tl_claims/teaching/feedback.py).
        "homework_smoke_not_graded": "accuracy criteria not graded at smoke scale (-m cpu grades them)",
        "homework_dataset_repeats": "the {which} pipeline from build_datasets repeats without end (a `.repeat()`, "
        "or a generator that never stops): the grader reads one pass of it; drop the repeat.",
        "homework_test_too_many": "the validation pipeline from build_datasets yielded more than the {expected} "
        "images it was given (it repeats, or adds images): the grader scores each test image once; drop the repeat.",
        "homework_test_too_few": "the validation pipeline from build_datasets yielded {seen} of the {expected} images "
        "it was given (a `drop_remainder`, a filter or a `take` leaves some out): the grader scores every test image; "
        "keep them all.",
        "homework_test_changed_model": "the validation pipeline from build_datasets changed the model's weights "
        "while the test images went through it: the grader scores the model as training left it; build_datasets "
        "must only prepare the images.",
        "homework_test_labels_changed": "the validation pipeline from build_datasets did not keep each image with "
        "its label (it changes or drops labels): the grader needs every label as given; leave the labels as they "
        "are.",
        "homework_not_sealed": "test split not sealed: {reason}",
        "step_train": "the training of the homework at {scale} scale",
        "step_score": "the scoring of the trained models on the test images",
        "homework_feedback": "feedback: {path}",
        "status_not_run": "not run",
        "feedback_title": "Homework feedback: {student}",
        "feedback_graded": "Graded {time} at {scale} scale: {file} (SHA-256 {sha}), tl-claims {version}.",
        "feedback_points": "Points: {earned:g} of {possible:g}",
        "feedback_problem": "The grading stopped: {problem}",
        "feedback_checks": "Teaching checks",
        "feedback_check_header": "check|outcome|points",
        "feedback_accuracy": "Test accuracy (mean over {seeds} seed(s))",
        "feedback_accuracy_header": "phase 1|phase 2|from scratch",
        "feedback_criteria": "Acceptance criteria",
        "feedback_criteria_header": "criterion|needed|measured|verdict|points",
        "feedback_two_stage": "phase 2 minus phase 1",
        "feedback_scratch": "transfer learning minus from scratch",
        "criterion_met": "met",
        "criterion_missed": "missed",
        "criterion_not_graded": "not graded at smoke scale",
    },
    "es": {
        "hint_raw": " - parecen píxeles crudos 0-255: sin ningún preprocesamiento",
        "hint_divided": " - parecen píxeles divididos por 255",
        "hint_double": " - parecen píxeles escalados dos veces",
        "expects_0_255": "reescala adentro: hay que darle píxeles 0-255",
        "expects_scaled": "su propio preprocess_input lleva 0-255 a este rango",
        "fix_0_255": "{backbone} reescala dentro de la red: dale píxeles 0-255 y quitá tu Rescaling(1/255) o "
        "`/ 255` (el preprocess_input de keras.applications no hace nada para este modelo)",
        "fix_scaled": "{backbone} necesita {expression}, es decir {layer}; agregalo una vez, p. ej. como capa "
        "Rescaling, y quitá cualquier otro escalado",
        "call_note": " - aunque el modelo llama a la base con training=False",
        "where_base_input": "tensores de entrada a la base",
        "where_output": "salidas",
        "status_passed": "pasó",
        "status_failed": "falló",
        "status_error": "error",
        "contract_import": "no se pudo importar el módulo del estudiante {path}: {error}",
        "contract_missing": "falta {name} en {module}: el contrato necesita {needs}.{suggestion} "
        "El contrato: `python -m tl_claims docs contract --lang es`.",
        "contract_suggestion": " ¿Quisiste llamar {name!r} a {found!r}?",
        "contract_not_callable": "{name} en {module} tiene que ser una función ({needs}); es de tipo {kind}.",
        "contract_signature": "{name} en {module} tiene que recibir {needs}; la tuya es {name}{signature}.",
        "contract_backbone": "BACKBONE = {value!r} en {module} no es un modelo base conocido; usá uno de: {choices}.",
        "contract_returns": "{name}(...) en {module} tiene que devolver {needs}; devolvió {got}.",
        "contract_base_outside": "build_model devolvió una base que no es una capa del modelo: devolvé el objeto "
        "base que llamaste dentro del modelo, p. ej. `x = base(x)` ... `return model, base`.",
        "contract_not_python": "no es un archivo Python ni un cuaderno: indicá el archivo .py o .ipynb que "
        "implementa el contrato del estudiante (`python -m tl_claims docs contract --lang es`).",
        "at_line": "{file}, línea {line}",
        "step_startup": "el arranque",
        "step_import": "la importación de tu archivo",
        "step_build": "el armado del pipeline (build_datasets, build_model, compile_stage1)",
        "step_check": "el chequeo {check}",
        "step_homework": "la tarea a escala {scale}",
        "needs_BACKBONE": "el nombre de un modelo base, p. ej. BACKBONE = 'efficientnet_lite0'",
        "needs_build_datasets": "build_datasets(config) -> (train, val)",
        "needs_build_model": "build_model(config) -> (model, base)",
        "needs_compile_stage1": "compile_stage1(model, base)",
        "needs_unfreeze_and_compile_stage2": "unfreeze_and_compile_stage2(model, base)",
        "returns_datasets": "(train, val), dos tf.data.Dataset de pares (images, labels)",
        "returns_model": "(model, base), dos keras.Model",
        "got_value": "un valor de tipo {kind}",
        "got_sequence": "un valor de tipo {kind} con {n} elementos: ({items})",
        "at_cell": "{file}, celda {cell}, línea {line}",
        "notebook_not_json": "no es un cuaderno: el archivo no es JSON válido ({error}).",
        "notebook_no_cells": "no es un cuaderno: el archivo no tiene una lista de celdas.",
        "notebook_format": "cuaderno en formato {version!r}: volvé a guardarlo desde Jupyter o Colab (formato 4).",
        "notebook_skipped": "{file}: se dejaron afuera {count} línea(s) de IPython, que no son Python: {lines}.",
        "notebook_skipped_line": "celda {cell}, línea {line}: {text}",
        "student_exit": "{name} llamó a sys.exit({code!r}): una función del estudiante tiene que devolver un valor, "
        "nunca terminar el programa.",
        "student_timeout": "{name} no terminó en {seconds:g} s (el límite por llamada a una función del estudiante; "
        "se cambia con --call-timeout): buscá un bucle infinito o un entrenamiento que no debería correr acá.",
        "child_crashed": "los chequeos se detuvieron durante {step}: el proceso que corre tu código terminó con "
        "estado de salida {status} antes de informar (os._exit, un fallo o falta de memoria en tu código). {output}",
        "child_call_timeout": "{name} no terminó en {seconds:g} s (el límite por llamada a una función del "
        "estudiante; se cambia con --call-timeout) y la operación en la que estaba no se podía interrumpir (una "
        "operación de TensorFlow bloqueada, o una señal que tu código bloqueó): se terminó el proceso que corre tu "
        "código.",
        "child_timeout": "los chequeos se detuvieron durante {step}: el proceso que corre tu código superó su límite "
        "total de {seconds:g} s y fue terminado.",
        "child_missing": "el chequeo no corrió (el proceso que corre tu código no informó un resultado para él, "
        "p. ej. porque tu código cambió los objetos del evaluador).",
        "not_run_after": "no corrió: lo detuvo el problema informado en {check}.",
        "homework_checks_failed": "chequeos de enseñanza que no pasaron: {checks} (corré pytest --student sobre "
        "el archivo para ver las explicaciones).",
        "homework_empty_folder": "no hay ningún archivo .py o .ipynb de estudiante en esta carpeta (se saltean "
        "los que empiezan con _ o test_).",
        "same_error": "no corrió por separado: es el mismo error que en {check} (informado una sola vez allí).",
        "last_output": "Su última salida: {tail}",
        "contract_no_file": "no existe el archivo; indicá la ruta de un archivo Python que implemente "
        "el contrato del estudiante (`python -m tl_claims docs contract --lang es`).",
        "contract_base_not_called": "la base no se llama sobre la entrada del modelo: armá el modelo con "
        "`x = base(x)` adentro y devolvé esa misma base desde build_model.",
        "contract_elements": "{name}(...) en {module} tiene que dar datasets de pares (images, labels); sus "
        "elementos son {got}.",
        "homework_rows": "tarea a escala {scale}: fase 1 {phase1:.3f}, fase 2 {phase2:.3f}, desde cero "
        "{scratch:.3f} (exactitud de test, promedio de {seeds} semilla(s))",
        "homework_two_stage": "la fase 2 tiene que superar a la fase 1 en al menos {need:.0f} pp (criterio de "
        "aceptación de la clase); medido {delta:+.1f} pp. Hacé un fine-tuning más largo o con una tasa de "
        "aprendizaje algo mayor (siempre 10x más baja que la de la etapa 1) y mantené BatchNorm congelado.",
        "homework_lesson_literal": "el código de la clase tal cual (ejercicios 4-5: recompilar con 1e-5, base(x, "
        "training=False)) con los mismos datos: fase 1 {phase1:.3f}, fase 2 {phase2:.3f} ({delta:+.1f} pp): {verdict}",
        "homework_criterion_met": "cumple el criterio",
        "homework_criterion_missed": "no cumple el criterio (en Keras 3 esa forma de llamar a la base no congela "
        "BatchNorm)",
        "homework_scratch": "el transfer learning tiene que superar a entrenar desde cero en al menos {need:.0f} pp "
        "('por mucho margen', leído como en la afirmación transfer_vs_scratch); medido {delta:+.1f} pp. Revisá el "
        "preprocesamiento y que build_model pase config.weights a la base.",
        # La corrección de una clase: la frase de la escala smoke, la devolución (tl_claims/teaching/feedback.py).
        "homework_smoke_not_graded": "criterios de exactitud sin corregir a escala smoke (-m cpu los corrige)",
        "homework_dataset_repeats": "el pipeline de {which} de build_datasets se repite sin fin (un `.repeat()` o "
        "un generador que nunca termina): el corrector lee una pasada; quitá la repetición.",
        "homework_test_too_many": "el pipeline de validación de build_datasets entregó más de las {expected} "
        "imágenes que recibió (se repite o agrega imágenes): el corrector evalúa cada imagen de test una vez; quitá "
        "la repetición.",
        "homework_test_too_few": "el pipeline de validación de build_datasets entregó {seen} de las {expected} "
        "imágenes que recibió (un `drop_remainder`, un filtro o un `take` deja algunas afuera): el corrector evalúa "
        "todas las imágenes de test; conservalas todas.",
        "homework_test_changed_model": "el pipeline de validación de build_datasets cambió los pesos del modelo "
        "mientras pasaban las imágenes de test: el corrector evalúa el modelo tal como lo dejó el entrenamiento; "
        "build_datasets solo debe preparar las imágenes.",
        "homework_test_labels_changed": "el pipeline de validación de build_datasets no mantuvo cada imagen con su "
        "etiqueta (cambia o descarta etiquetas): el corrector necesita cada etiqueta tal como la recibió; dejá las "
        "etiquetas como están.",
        "homework_not_sealed": "conjunto de test sin sellar: {reason}",
        "step_train": "el entrenamiento de la tarea a escala {scale}",
        "step_score": "la evaluación de los modelos entrenados sobre las imágenes de test",
        "homework_feedback": "devolución: {path}",
        "status_not_run": "no corrió",
        "feedback_title": "Devolución de la tarea: {student}",
        "feedback_graded": "Corregida el {time} a escala {scale}: {file} (SHA-256 {sha}), tl-claims {version}.",
        "feedback_points": "Puntos: {earned:g} de {possible:g}",
        "feedback_problem": "La corrección se detuvo: {problem}",
        "feedback_checks": "Chequeos de enseñanza",
        "feedback_check_header": "chequeo|resultado|puntos",
        "feedback_accuracy": "Exactitud de test (promedio de {seeds} semilla(s))",
        "feedback_accuracy_header": "fase 1|fase 2|desde cero",
        "feedback_criteria": "Criterios de aceptación",
        "feedback_criteria_header": "criterio|necesario|medido|veredicto|puntos",
        "feedback_two_stage": "fase 2 menos fase 1",
        "feedback_scratch": "transfer learning menos desde cero",
        "criterion_met": "cumplido",
        "criterion_missed": "no cumplido",
        "criterion_not_graded": "sin corregir a escala smoke",
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
