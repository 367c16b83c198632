"""Every sentence of the grader and the sandbox that is not a check's four-part message (those are
tl_claims/teaching/messages.py, which reads this table through `messages.text`), one table per language: templates
filled with `str.format` fields, the same keys in both.
"""

# Short phrases that fill the check templates, and the contract, sandbox and homework sentences.
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
