#!/usr/bin/env bash
# Proves ConvNet's ONNX export with the ONNX project's own tools: for every zoo model (small input
# sizes where the architecture allows; briefly trained where it has batch normalization, so that
# its moving statistics are not at their initial values) and the Keras-trained LeNet-5, exports the
# model (probabilities, and logits with --logits), runs onnx.checker.check_model(full_check=True),
# and compares onnxruntime's outputs with `convnet predict`'s on real images: the four example
# photos, a colour picture from docs/images and four RGB images made of Fashion-MNIST test images.
# Largest allowed difference: 1e-4. Installs onnx, onnxruntime and numpy in a virtual environment
# ($ONNX_VENV, default /tmp/onnx-venv); skips with a reason when Python or pip is missing.
# ONNX_CHECK_QUICK=1 (CI) leaves out the deeper or wider repeats of architectures checked at a
# smaller size (ResNet-34, the CIFAR ResNets beyond ResNet-20, VGG-16 on CIFAR, airbench95 beside
# airbench94): the same layers and wiring, so every layer kind is still checked.
set -euo pipefail
cd "$(dirname "$0")/.."
tolerance=1e-4
venv=${ONNX_VENV:-/tmp/onnx-venv}
if ! command -v python3 >/dev/null; then echo "onnx-check: skipped: python3 is not installed"; exit 0; fi
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import onnx, onnxruntime, numpy" 2>/dev/null; then
    if ! { python3 -m venv "$venv" && "$venv/bin/pip" install -q --disable-pip-version-check onnx onnxruntime numpy; }; then
        echo "onnx-check: skipped: could not create a virtual environment with onnx and onnxruntime (python3-venv, pip, PyPI)"
        exit 0
    fi
fi
python="$venv/bin/python"
swift build -c release >/dev/null
convnet=.build/release/convnet
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
start=$SECONDS

# Real images: gray photos, a colour picture, and Fashion-MNIST test images stacked as RGB.
mkdir "$work/images"
cp examples/images/*.png docs/images/filters-horse.png "$work/images/"
"$python" scripts/fashion-mnist-png.py "$work/images" 4 --rgb
images=("$work"/images/*.png)

# check NAME MODEL [EXTRA EXPORTS...]: exports, predicts and compares (probabilities and logits).
# MODEL is a .h5 file, or a zoo name (the same seeded weights in export and predict).
check() {
    local name=$1 model=$2
    shift 2
    local pairs=()
    for variant in probabilities logits "$@"; do
        local flags=() predict=()
        case $variant in
            logits) flags=(--logits); predict=(--logits) ;;
            nchw) flags=(--channels-first) ;;
            opset*) flags=(--opset "${variant#opset}") ;;
        esac
        "$convnet" export --format onnx "$model" -o "$work/$name-$variant.onnx" "${flags[@]}" >/dev/null
        "$convnet" predict --model "$model" --json --with-input --allow-untrained "${predict[@]}" "${images[@]}" > "$work/$name-$variant.json"
        pairs+=("$work/$name-$variant.onnx" "$work/$name-$variant.json")
    done
    "$python" scripts/onnx-check.py "$name" "$tolerance" "${pairs[@]}"
}

check keras-lenet5 Tests/ConvNetTests/Fixtures/keras/lenet5.h5 nchw opset21
# Every layer kind and activation the zoo does not use (dilation, asymmetric zero padding, `same`
# pooling on odd sizes, ELU, leaky ReLU, batch normalization without beta and on dense features,
# global max pooling, concatenation of feature vectors), as a Keras functional config, trained
# for 8 steps.
"$convnet" train --model scripts/onnx-every-layer.json --dataset fashion-mnist --epochs 1 --limit 64 --batch-size 8 --quiet \
    --save "$work/every-layer.h5" >/dev/null
check every-layer "$work/every-layer.h5" nchw
# The zoo. Models without batch normalization at their own input size run with their seeded
# initial weights (a zoo name: export and predict build the same ones); fmnist-fcn also on every
# image at its own size, as its height and width are open.
for name in lenet5 lenet5-classic conv4x7 fmnist-maxpool fmnist-strides fmnist-fcn signs cifar cifar-sobel cifar-conv4; do
    extra=()
    [ "$name" = fmnist-fcn ] && extra=(nchw)
    check "$name" "$name" "${extra[@]}"
done
# name[:HxW]: models with batch normalization (so that its moving statistics are not at their
# initial values) or at a smaller input size, trained for 8 steps of 8 Fashion-MNIST images
# (converted to RGB and resized as the model needs) and saved.
entries=(alexnet:67x67 vgg16:32x32 resnet18:32x32 resnet50:32x32 googlenet:32x32 resnet20 resnet18-cifar vgg11-cifar
         googlenet-cifar airbench94)
[ "${ONNX_CHECK_QUICK:-0}" = 1 ] || entries+=(resnet34:32x32 resnet32 resnet44 resnet56 resnet110 vgg16-cifar airbench95)
for entry in "${entries[@]}"; do
    name=${entry%%:*}
    resize=()
    [ "$name" != "$entry" ] && resize=(--resize "${entry#*:}")
    "$convnet" train --model "$name" "${resize[@]}" --dataset fashion-mnist --epochs 1 --limit 64 --batch-size 8 --quiet \
        --save "$work/$name.h5" >/dev/null
    extra=()
    case $name in resnet20) extra=(nchw) ;; googlenet-cifar) extra=(opset17) ;; esac
    check "$name" "$work/$name.h5" "${extra[@]}"
done
echo "onnx-check: every model within $tolerance of ConvNet in onnxruntime ($((SECONDS - start)) s)"
