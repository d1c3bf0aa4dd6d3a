"""Checks ONNX files exported by ConvNet with the ONNX project's own tools.

python onnx-check.py NAME TOLERANCE MODEL.onnx PREDICTIONS.json [MODEL.onnx PREDICTIONS.json ...] [--channels-first FILE]

For each pair: onnx.checker.check_model(full_check=True) (structure, types, shape inference),
then onnxruntime runs the graph on the inputs `convnet predict --json --with-input` recorded
(the images as ConvNet preprocessed them) and its outputs are compared with ConvNet's. A file
exported with --channels-first (its name ends in -nchw.onnx) gets the inputs transposed to NCHW.
Prints one line per file with the largest absolute difference; exits 1 when one exceeds TOLERANCE
times max(1, the largest output): TOLERANCE itself for probabilities, relative for large logits.
"""
import json
import sys

import numpy as np
import onnx
import onnxruntime

name, tolerance, pairs = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
failed = False
for model_path, predictions_path in zip(pairs[0::2], pairs[1::2]):
    onnx.checker.check_model(model_path, full_check=True)
    model = onnx.load(model_path)
    session = onnxruntime.InferenceSession(model_path, providers=["CPUExecutionProvider"])
    input_name = session.get_inputs()[0].name
    channels_first = model_path.endswith("-nchw.onnx")
    with open(predictions_path) as f:
        predictions = json.load(f)
    largest, scale = 0.0, 0.0
    for prediction in predictions:
        x = np.array(prediction["input"], dtype=np.float32).reshape(prediction["inputShape"])
        if channels_first and x.ndim == 4:
            x = x.transpose(0, 3, 1, 2)
        (output,) = session.run(None, {input_name: x})
        if channels_first and output.ndim == 4:
            output = output.transpose(0, 2, 3, 1)
        expected = np.array(prediction["probabilities"], dtype=np.float32)
        got = output.reshape(-1)
        if got.shape != expected.shape:
            print(f"{name}: {model_path}: output has {got.size} values, ConvNet's {expected.size}")
            failed = True
            continue
        largest = max(largest, float(np.abs(got - expected).max()))
        scale = max(scale, float(np.abs(expected).max()))
    # Probabilities lie in [0, 1]: the limit is absolute. Logits can reach the hundreds, where
    # float32 itself resolves only ~1e-5: there the limit is relative to the largest logit.
    ok = largest <= tolerance * max(1.0, scale)
    failed |= not ok
    print(f"{name}: {model_path.rsplit('/', 1)[-1]}: opset {model.opset_import[0].version}, IR {model.ir_version}, "
          f"{len(model.graph.node)} nodes, {len(predictions)} images: max |onnxruntime - ConvNet| = {largest:.2e} "
          f"(outputs up to {scale:.3g}) {'ok' if ok else 'FAILED'}")
sys.exit(1 if failed else 0)
