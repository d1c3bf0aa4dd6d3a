#!/usr/bin/env bash
# Runs the `convnet` tool against the bad inputs, faults and file-system tricks of issue 22 and
# prints one line per case: its name, how the process ended (exit N, signal, timeout) and the first
# line of its error output. Nothing here changes the repository; files go to a temporary folder.
#
#   scripts/hostile-inputs.sh [path/to/convnet]      (default: .build/release/convnet)
#
# Damaged HDF5 files are made with h5py (python3 -m pip install h5py); without it those cases are
# skipped. The test suite (HostileInputTests) covers the same cases with files it builds itself.
set -uo pipefail
cd "$(dirname "$0")/.."
CONVNET=$(realpath "${1:-.build/release/convnet}")
LENET5=$(realpath Tests/ConvNetTests/Fixtures/keras/lenet5.h5)
WORK=$(mktemp -d /tmp/convnet-hostile.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
export CONVNET_DATASET_MIRROR=http://127.0.0.1:9
HAVE_H5PY=$(python3 -c 'import h5py' 2>/dev/null && echo yes || echo no)
FMNIST=/usr/share/datasets/fashion-mnist
TIMEOUT=${HOSTILE_TIMEOUT:-120}
crashes=0

# run NAME EXPECTED-EXIT COMMAND...: runs the command under a timeout, prints the outcome.
run() {
    local name=$1 expected=$2
    shift 2
    timeout -s KILL "$TIMEOUT" "$@" >out.txt 2>err.txt
    local status=$? outcome
    if [ $status -eq 137 ]; then outcome="TIMEOUT/KILL"; crashes=$((crashes + 1))
    elif [ $status -gt 128 ]; then outcome="SIGNAL $(kill -l $((status - 128)))"; crashes=$((crashes + 1))
    else outcome="exit $status"; fi
    local verdict=ok
    [ "$outcome" = "exit $expected" ] || verdict=BAD
    printf '%-4s %-44s %-16s %s\n' "$verdict" "$name" "$outcome" "$(grep -v '^$' err.txt | head -1 | cut -c1-150)"
}

skip() { printf '%-4s %-44s %s\n' "skip" "$1" "$2"; }

h5edit() { python3 - "$@"; }

echo "convnet: $CONVNET"
"$CONVNET" train --model lenet5 --dataset fashion-mnist --limit 256 --epochs 1 --quiet --checkpoint ck.h5 >/dev/null 2>&1 \
    || echo "could not write a checkpoint; checkpoint cases will fail"
TRAIN=(train --model lenet5 --dataset fashion-mnist --limit 256 --quiet)

# 1. Damaged checkpoints.
if [ $HAVE_H5PY = yes ]; then
    for slot in 1 0; do
        cp ck.h5 "ck-slot$slot.h5"
        h5edit "ck-slot$slot.h5" "$slot" <<'EOF'
import h5py, numpy as np, sys
with h5py.File(sys.argv[1], 'r+') as f:
    g = f['convnet_optimizer']
    layer = sorted(g.keys())[-1]
    weight = sorted(g[layer].keys())[0]
    del g[layer][weight][sys.argv[2]]
    g[layer][weight][sys.argv[2]] = np.zeros(1, 'f4')
EOF
        run "checkpoint slot $slot of wrong length" 1 "$CONVNET" "${TRAIN[@]}" --epochs 2 --resume "ck-slot$slot.h5"
    done
    cp ck.h5 ck-missing.h5
    h5edit ck-missing.h5 <<'EOF'
import h5py, sys
with h5py.File(sys.argv[1], 'r+') as f:
    g = f['convnet_optimizer']; layer = sorted(g.keys())[-1]; weight = sorted(g[layer].keys())[0]
    del g[layer][weight]['1']
EOF
    run "checkpoint slot missing" 1 "$CONVNET" "${TRAIN[@]}" --epochs 2 --resume ck-missing.h5
    for field in epoch step; do
        cp ck.h5 "ck-$field.h5"
        h5edit "ck-$field.h5" "$field" <<'EOF'
import h5py, json, sys
with h5py.File(sys.argv[1], 'r+') as f:
    state = json.loads(f.attrs['convnet_checkpoint']); state[sys.argv[2]] = -5
    f.attrs['convnet_checkpoint'] = json.dumps(state)
EOF
        run "checkpoint negative $field" 1 "$CONVNET" "${TRAIN[@]}" --epochs 2 --resume "ck-$field.h5"
    done
    cp ck.h5 ck-json.h5
    h5edit ck-json.h5 <<'EOF'
import h5py, sys
with h5py.File(sys.argv[1], 'r+') as f:
    f.attrs['convnet_metadata'] = '{"classNames": 7'
EOF
    run "damaged convnet_metadata attribute" 1 "$CONVNET" summary --model ck-json.h5
else
    skip "checkpoint cases" "no h5py"
fi

# 2. A full disk during an HDF5 save (needs root for a small tmpfs).
mkdir -p full
if mount -t tmpfs -o size=200k tmpfs full 2>/dev/null; then
    echo old >full/old.h5
    run "convert onto a full disk" 1 "$CONVNET" convert "$LENET5" full/old.h5
    run "train --save onto a full disk" 1 "$CONVNET" "${TRAIN[@]}" --epochs 1 --save full/old.h5
    run "train --checkpoint onto a full disk" 1 "$CONVNET" "${TRAIN[@]}" --epochs 1 --checkpoint full/ck.h5
    printf '     old file intact: %s; files left: %s\n' "$([ "$(cat full/old.h5)" = old ] && echo yes || echo NO)" "$(ls -A full | tr '\n' ' ')"
    umount full
else
    skip "full disk" "cannot mount a tmpfs here"
fi

# 3. Planted symlinks at the temporary names the process will use (earlier versions:
# <out>.tmp-<pid>-1 and .<log>.tmp-<pid>), planted as soon as its process id is known.
echo precious >victim.txt
"$CONVNET" "${TRAIN[@]}" --epochs 2 --save out.h5 --log h.csv >out.txt 2>err.txt &
pid=$!
ln -s victim.txt "out.h5.tmp-$pid-1"; ln -s victim.txt ".h.csv.tmp-$pid"
wait $pid
status=$?
printf '%-4s %-44s %-16s %s\n' "$([ $status = 0 ] && [ "$(cat victim.txt)" = precious ] && echo ok || echo BAD)" \
    "planted temporary-file symlinks" "exit $status" "$(head -1 err.txt)"
printf '     victim intact: %s; out.h5 is a link: %s; h.csv is a link: %s\n' \
    "$([ "$(cat victim.txt)" = precious ] && echo yes || echo NO)" "$([ -L out.h5 ] && echo YES || echo no)" "$([ -L h.csv ] && echo YES || echo no)"
echo precious >victim.txt
rm -f out.h5.tmp-* .h.csv.tmp-* out.h5 h.csv
ln -s victim.txt out.h5
run "output is a planted symlink" 0 "$CONVNET" "${TRAIN[@]}" --epochs 1 --save out.h5
printf '     victim intact: %s; out.h5 is a link: %s\n' "$([ "$(cat victim.txt)" = precious ] && echo yes || echo NO)" "$([ -L out.h5 ] && echo YES || echo no)"
rm -f out.h5
# A dead process's temporary file is cleaned at the next save.
touch ".out.h5.convnet-tmp-999999999-abcdef" "out.h5.tmp-999999999-1"
run "save beside a dead writer's temporaries" 0 "$CONVNET" "${TRAIN[@]}" --epochs 1 --save out.h5
printf '     temporaries left: %s\n' "$(ls -A | grep -c 'tmp')"
rm -f out.h5* .out.h5*

# 4. Damaged model files.
cp "$LENET5" flip.h5
printf '\x1e' | dd of=flip.h5 bs=1 seek=8215 conv=notrunc 2>/dev/null
run "lenet5.h5 byte 8215 = 0x1e: summary" 1 "$CONVNET" summary --model flip.h5
if [ $HAVE_H5PY = yes ]; then
    cp "$LENET5" huge.h5
    h5edit huge.h5 <<'EOF'
import h5py, sys
with h5py.File(sys.argv[1], 'r+') as f:
    g = f['model_weights/dense/sequential/dense'] if 'model_weights/dense/sequential/dense' in f else None
    path = None
    def find(name, obj):
        global path
        if path is None and isinstance(obj, h5py.Dataset) and 'kernel' in name: path = name
    f['model_weights'].visititems(find)
    full = 'model_weights/' + path
    del f[full]
    f.create_dataset(full, shape=(1 << 20, 1 << 20), dtype='f4', chunks=(64, 64))
EOF
    run "weight dataset of 2^20 x 2^20" 1 "$CONVNET" summary --model huge.h5
    cp ck.h5 cycle.h5
    h5edit cycle.h5 <<'EOF'
import h5py, sys
with h5py.File(sys.argv[1], 'r+') as f:
    g = f['convnet_optimizer']
    for i in range(8): g[f'loop{i}'] = g
EOF
    run "hard-link cycle in a group" 1 "$CONVNET" summary --model cycle.h5
else
    skip "huge dataset, link cycle" "no h5py"
fi
flips_bad=0
for seed in $(seq 1 50); do
    python3 - "$LENET5" "flip$seed.h5" "$seed" <<'EOF'
import random, sys
data = bytearray(open(sys.argv[1], 'rb').read()); rng = random.Random(int(sys.argv[3]))
for _ in range(4):
    data[rng.randrange(len(data))] = rng.randrange(256)
open(sys.argv[2], 'wb').write(data)
EOF
    for command in summary predict; do
        args=(--model "flip$seed.h5")
        [ $command = predict ] && args+=("$OLDPWD/examples/images/bag.png")
        timeout -s KILL 60 "$CONVNET" $command "${args[@]}" >/dev/null 2>&1
        status=$?
        if [ $status -gt 128 ]; then flips_bad=$((flips_bad + 1)); echo "     flip seed $seed $command: status $status"; fi
    done
    rm -f "flip$seed.h5"
done
printf '%-4s %-44s %s\n' "$([ $flips_bad = 0 ] && echo ok || echo BAD)" "50 random 4-byte damages of lenet5.h5" "$flips_bad crashed or hung"
crashes=$((crashes + flips_bad))

# 5. Unchecked numbers.
for schedule in cosine:nan cosine:inf step:0.5:1e30 step:nan:2 exponential:inf; do
    run "--schedule $schedule" 2 "$CONVNET" "${TRAIN[@]}" --epochs 1 --schedule "$schedule"
done
for flag in "--lr inf" "--l2 inf" "--momentum nan" "--l1 nan" "--clipnorm nan" "--ema inf" "--classes 100000000000"; do
    if [ "$flag" = "--classes 100000000000" ]; then
        run "summary $flag" 1 "$CONVNET" summary --model lenet5 $flag
    else
        run "train $flag" 2 "$CONVNET" "${TRAIN[@]}" --epochs 1 $flag
    fi
done
run "summary vgg16 --input 100000x100000x3" 1 "$CONVNET" summary --model vgg16 --input 100000x100000x3
if [ $HAVE_H5PY = yes ]; then
    python3 - "$LENET5" <<'EOF'
import h5py, json, sys
config = json.loads(h5py.File(sys.argv[1], 'r').attrs['model_config'])
def layer(kind):
    return next(l for l in config['config']['layers'] if l['class_name'] == kind)
def variant(name, edit):
    c = json.loads(json.dumps(config)); edit(c); open(name, 'w').write(json.dumps(c))
def conv(c): return next(l for l in c['config']['layers'] if l['class_name'] == 'Conv2D')['config']
def dense(c): return next(l for l in c['config']['layers'] if l['class_name'] == 'Dense')['config']
def inputs(c): return c['config']['layers'][0]['config']
variant('strides0.json', lambda c: conv(c).update(strides=[0, 0]))
variant('kernel0.json', lambda c: conv(c).update(kernel_size=[0, 0]))
variant('dilation0.json', lambda c: conv(c).update(dilation_rate=[0, 0]))
variant('units2e62.json', lambda c: dense(c).update(units=1 << 62))
variant('dense1e6.json', lambda c: [l['config'].update(units=1000000) for l in c['config']['layers'] if l['class_name'] == 'Dense'])
variant('negative-input.json', lambda c: inputs(c).update(batch_shape=[None, -28, 28, 1], batch_input_shape=[None, -28, 28, 1]))
variant('filters-neg.json', lambda c: conv(c).update(filters=-3))
EOF
    for config in strides0 kernel0 dilation0 units2e62 dense1e6 negative-input filters-neg; do
        run "Keras JSON $config: summary" 1 "$CONVNET" summary --model "$config.json"
    done
else
    skip "Keras JSON cases" "no h5py"
fi

# Also mishandled: decompression bombs, huge PNG, usage errors found late, degenerate data.
mkdir -p bomb
python3 - bomb <<'EOF'
import gzip, os, sys, zlib
def bomb(path, header, total):
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    with open(path, 'wb') as f:
        f.write(c.compress(header))
        zero = bytes(1 << 24)
        for _ in range(total >> 24): f.write(c.compress(zero))
        f.write(c.flush())
bomb(os.path.join(sys.argv[1], 'train-images-idx3-ubyte.gz'), b'\x00\x00\x08\x09' + bytes(12), 3 << 30)
for name in ['train-labels-idx1-ubyte.gz', 't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz']:
    bomb(os.path.join(sys.argv[1], name), b'\x00\x00\x08\x01\x00\x00\x00\x01\x00', 0)
EOF
run "3 GB gzip bomb with a wrong IDX magic" 1 /usr/bin/time -f "%M KB max RSS" "$CONVNET" "${TRAIN[@]}" --dataset fashion-mnist --data-dir bomb --epochs 1
grep "max RSS" err.txt | sed 's/^/     /'
mkdir -p mixed
cp "$FMNIST"/train-* mixed/
python3 - mixed <<'EOF'
import gzip, os, struct, sys
with gzip.open(os.path.join(sys.argv[1], 't10k-images-idx3-ubyte.gz'), 'wb') as f:
    f.write(struct.pack('>IIII', 0x803, 10, 20, 20) + bytes(4000))
with gzip.open(os.path.join(sys.argv[1], 't10k-labels-idx1-ubyte.gz'), 'wb') as f:
    f.write(struct.pack('>II', 0x801, 10) + bytes(10))
EOF
run "IDX test split of another image size" 1 "$CONVNET" "${TRAIN[@]}" --data-dir mixed --epochs 1
python3 - <<'EOF'
import struct, zlib
width = height = 20000
raw = zlib.compress(b''.join(b'\x00' + bytes(width) for _ in range(height)), 9)
def chunk(kind, data): return struct.pack('>I', len(data)) + kind + data + struct.pack('>I', zlib.crc32(kind + data))
open('huge.png', 'wb').write(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', width, height, 8, 0, 0, 0, 0))
                             + chunk(b'IDAT', raw) + chunk(b'IEND', b''))
EOF
run "PNG of 20000x20000 pixels" 1 /usr/bin/time -f "%M KB max RSS" "$CONVNET" predict --model "$LENET5" huge.png
grep "max RSS" err.txt | sed 's/^/     /'
run "--schedule bogus" 2 "$CONVNET" "${TRAIN[@]}" --schedule bogus
run "--preprocessing bogus" 2 "$CONVNET" "${TRAIN[@]}" --preprocessing bogus
run "--augmentations bogus" 2 "$CONVNET" "${TRAIN[@]}" --augmentations bogus
run "--save into a missing folder" 2 "$CONVNET" "${TRAIN[@]}" --save missing/out.h5
mkdir -p logdir
run "--log is a folder" 2 "$CONVNET" "${TRAIN[@]}" --log logdir
mkdir -p one/only && for i in 1 2 3 4; do cp "$OLDPWD/examples/images/bag.png" "one/only/$i.png"; done
run "a folder with a single class" 1 "$CONVNET" train --model lenet5 --dataset one --epochs 1 --quiet
if [ $HAVE_H5PY = yes ]; then
    python3 - <<'EOF'
import h5py, numpy as np
with h5py.File('float-labels.h5', 'w') as f:
    f['train_set_x'] = np.zeros((8, 28, 28, 1), 'u1'); f['train_set_y'] = np.array([0.5, 1.7, 0, 1, 0, 1, 0, 1], 'f4')
    f['list_classes'] = np.array([b'a', b'b'])
EOF
    run "HDF5 set with float labels" 1 "$CONVNET" train --model lenet5 --dataset float-labels.h5 --epochs 1 --quiet
fi
run "Adam --lr 1e6 (exploding loss)" 1 "$CONVNET" "${TRAIN[@]}" --epochs 3 --lr 1e6 --save explode.h5
printf '     model saved anyway: %s\n' "$([ -e explode.h5 ] && echo YES || echo no)"

echo "crashed or hung: $crashes"
