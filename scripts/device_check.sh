#!/usr/bin/env bash
# The checks that need a CUDA GPU, as one short run on a lent GPU machine:
#   the CUDA tests (fp16 end to end, SDXL's VAE finite in the type it runs in, model offload),
#   then `aigic bench-decode`'s SD 1.5 and SDXL rows in fp16 at full size (random weights),
#   then a fresh-process decode of each family (scripts/profile_decode.py).
#
#   scripts/device_check.sh prepare   here, once: the Python 3.12 wheels that machine lacks
#                                     and the models' configs, into .device/ (git-ignored)
#   scripts/device_check.sh run       there, from the repository root (carry .device):
#                                     everything above; logs and tables into $OUT (or out/)
#
# The GPU machine has PyTorch but no diffusers and no package index: `prepare` downloads the
# pinned versions of what aigic's decode needs beyond what it has. The configs and tokenizers
# (../shared/models, a few MB) travel in .device/models only for the run; no weights travel:
# bench-decode builds random ones from the configs there.
set -euo pipefail
cd "$(dirname "$0")/.."
HERE=.device
WHEELS=(diffusers==0.42.1 transformers==5.24.0 huggingface-hub==2.4.0 compel==2.5.1
        constriction==0.5.0 brotli==1.2.1 ftfy==6.3.1)

prepare() {
    local shared=${SHARED:-../shared}
    mkdir -p "$HERE/wheels" "$HERE/models"
    grep -qx "/$HERE/" .git/info/exclude 2>/dev/null || echo "/$HERE/" >> .git/info/exclude
    python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
        --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
        --platform manylinux2014_x86_64 --platform any -d "$HERE/wheels" "${WHEELS[@]}"
    for base in stable-diffusion-v1-5 stable-diffusion-xl-base-1.0; do
        cp -r "$shared/models/$base" "$HERE/models/"  # configs and tokenizers: 5 MB
    done
    du -sh "$HERE"
    echo "prepared: run \`scripts/device_check.sh run\` there with carry [\"$HERE\"]"
}

run() {
    local out=${OUT:-out/device}
    mkdir -p "$out" /tmp/site
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/site "$HERE"/wheels/*.whl
    export PYTHONPATH="/tmp/site:$PWD" PYTHONUNBUFFERED=1 AIGIC_UNPINNED_WEIGHTS=1
    python3 -c "import torch; assert torch.cuda.is_available(), 'no CUDA device here'
print(torch.__version__, torch.cuda.get_device_name())" | tee "$out/device.txt"
    python3 -m pytest -q -rs -p no:cacheprovider tests/test_sd15.py tests/test_sdxl.py \
        -k "cuda" 2>&1 | tee "$out/cuda-tests.txt" | tail -5
    local models=/tmp/aigic-fullsize
    python3 -m aigic bench-decode --runs 3 --subsets all,text \
        --profiles sd15-lcm4-a1111,sd15-lcm4-taesd-a1111,sd15-dpm25-a1111,sdxl-lcm4-a1111,sdxl-dpm25-a1111 \
        --configs "$HERE/models/stable-diffusion-v1-5" \
        --sdxl-configs "$HERE/models/stable-diffusion-xl-base-1.0" \
        --models "$models" 2>&1 | tee "$out/bench-decode.txt"
    for family in sd15 sdxl; do
        local profile=sd15-lcm4-taesd-a1111 size=512
        [ "$family" = sdxl ] && profile=sdxl-lcm4-a1111 size=1024
        python3 -c "import sys; from PIL import Image
Image.open(sys.argv[1]).convert('RGB').resize(($size, $size)).save(sys.argv[2])" \
            assets/astronaut_horse_sd15.png "/tmp/$family.png"
        python3 -m aigic encode "/tmp/$family.png" --structure canny --profile "$profile" \
            -o "/tmp/$family.aigic"
        AIGIC_MODEL_DIR="$models" python3 scripts/profile_decode.py "/tmp/$family.aigic" \
            --backend "$family" --profile "$profile" 2>&1 | tee "$out/fresh-$family.txt"
    done
}

case "${1:-}" in
    prepare) prepare ;;
    run) run ;;
    *) sed -n 2,11p "$0"; exit 2 ;;
esac
