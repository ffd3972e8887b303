"""PiDiNet for inference: its pixel-difference convolutions folded into plain ones.

    table5_pidinet.pth (the trained network, 16 pixel-difference convolutions: central 'cd',
        angular 'ad', radial 'rd' or vanilla 'cv', by layer) --fold()--> plain kernels
        (cd, ad: 3x3; rd: 5x5) --PiDiNet(convert=True)--> the same function, plain convolutions

Each pixel-difference convolution is linear in its input, so it equals one ordinary
convolution with a rearranged kernel (Su et al., "Pixel Difference Networks for Efficient Edge
Detection", ICCV 2021, section 3.3, which ships its models this way for inference):

    cd: y = conv(x, W) - conv(x, sum(W)) at the centre  ->  W with sum(W) taken off its centre
    ad: y = conv(x, W - W rotated by one step clockwise around the centre)
    rd: y = conv5x5(x, ring): W's outer 8 taps on the 5x5 ring, minus them on the inner ring

A plain network runs in channels-last memory and in bfloat16 on CPUs, which the
pixel-difference form does not (controlnet_aux's version builds its kernels on every call).
The network's definition is controlnet_aux's ``pidi/model.py``, loaded on its own: importing
the ``controlnet_aux`` package would import every annotator it has (seconds, and warnings).
"""

from __future__ import annotations

# PiDiNet's 16 pixel-difference convolutions, in the order of its config's layer0 .. layer15
CONVS = ("init_block",) + tuple(
    f"block{stage}_{i}" for stage, n in ((1, 3), (2, 4), (3, 4), (4, 4)) for i in range(1, n + 1)
)
# 3x3 taps, row-major: the tap one step clockwise before each (the centre stays)
CLOCKWISE = (3, 0, 1, 6, 4, 2, 7, 8, 5)
# rd: where W's 8 outer taps go on a 5x5 kernel (outer ring, and the inner ring negated)
RING_OUTER = (0, 2, 4, 10, 14, 20, 22, 24)
RING_INNER = (6, 7, 8, 11, 13, 16, 17, 18)


def fold(kind: str, weight):
    """The plain kernel equal to pixel-difference convolution ``kind`` with ``weight``."""
    import torch

    if kind == "cv":
        return weight
    out, inp = weight.shape[:2]
    flat = weight.reshape(out, inp, 9)
    if kind == "cd":
        folded = flat.clone()
        folded[:, :, 4] -= flat.sum(dim=2)
        return folded.reshape(weight.shape)
    if kind == "ad":
        return (flat - flat[:, :, list(CLOCKWISE)]).reshape(weight.shape)
    if kind == "rd":
        ring = torch.zeros(out, inp, 25, dtype=weight.dtype)
        ring[:, :, list(RING_OUTER)] = flat[:, :, 1:]
        ring[:, :, list(RING_INNER)] = -flat[:, :, 1:]
        return ring.reshape(out, inp, 5, 5)
    raise ValueError(f"unknown pixel-difference convolution {kind!r}")


def plain_pidinet(state: dict):
    """PiDiNet (controlnet_aux's 'carv4' table-5 model) with ``state``'s trained weights, every
    pixel-difference convolution folded into a plain one; in eval mode."""
    model = network_module()
    PiDiNet, nets = model.PiDiNet, model.nets
    kinds = [nets["carv4"][f"layer{i}"] for i in range(len(CONVS))]
    state = {k.replace("module.", ""): v for k, v in state.items()}
    for name, kind in zip(CONVS, kinds):
        key = f"{name}.weight" if name == "init_block" else f"{name}.conv1.weight"
        state[key] = fold(kind, state[key])
    net = PiDiNet(60, kinds, dil=24, sa=True, convert=True)  # convert: kinds by name
    net.load_state_dict(state)
    return net.eval()


def network_module():
    """controlnet_aux's ``pidi/model.py`` (it imports torch, cv2 and numpy only), without
    running the package's ``__init__``; loaded once."""
    import importlib.util
    import sys

    name = "aigic_controlnet_aux_pidi_model"
    if name in sys.modules:
        return sys.modules[name]
    package = importlib.util.find_spec("controlnet_aux")
    if package is None or not package.submodule_search_locations:
        raise ImportError("controlnet_aux is not installed (pip install 'aigic[sd]')")
    path = f"{next(iter(package.submodule_search_locations))}/pidi/model.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


# ---- onnxruntime: the folded network without torch -----------------------------------------
# A fresh process that encodes one sketch would spend most of its time importing torch and
# warming its kernels; onnxruntime imports in a tenth of a second and runs the same plain
# convolutions (the same map: tested against the torch network). The network is exported
# once per checkpoint (by its SHA-256) into aigic's cache; later processes read only that file.
ONNX_OPSET = 17


def onnx_file(digest: str):
    """Where the exported network of the checkpoint with SHA-256 ``digest`` is kept."""
    from ..weights.files import state_path

    return state_path().parent / "pidinet" / f"table5-{digest[:16]}-opset{ONNX_OPSET}.onnx"


def export_onnx(net, path) -> None:
    """Write ``net`` (the plain network) as ONNX at ``path``, any image size, atomically:
    a reader never sees half a file."""
    import os
    import tempfile
    import warnings

    import torch

    class Edges(torch.nn.Module):  # the last (fused) side output only: the map aigic uses
        def __init__(self, net):
            super().__init__()
            self.net = net

        def forward(self, x):
            return self.net(x)[-1]

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".onnx.part")
    os.close(fd)
    try:
        sizes = {2: "height", 3: "width"}
        with warnings.catch_warnings():  # the TorchScript exporter announces its deprecation
            warnings.simplefilter("ignore")
            torch.onnx.export(
                Edges(net.cpu().float().to(memory_format=torch.contiguous_format)).eval(),
                (torch.zeros(1, 3, 64, 64),),
                tmp,
                input_names=["bgr"],
                output_names=["edges"],
                dynamic_axes={"bgr": sizes, "edges": sizes},
                opset_version=ONNX_OPSET,
                dynamo=False,
            )
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


class OnnxPiDiNet:
    """The exported network in an onnxruntime session (CPU): ``net(x)`` maps a 1x3xHxW
    float32 BGR array in 0..1 to the HxW edge probability."""

    def __init__(self, path):
        import os

        import onnxruntime as ort

        options = ort.SessionOptions()
        threads = int(os.environ.get("OMP_NUM_THREADS") or 0)  # a folder's workers split cores
        if threads > 0:
            options.intra_op_num_threads = threads
        options.log_severity_level = 3  # errors only
        options.enable_mem_pattern = False  # image sizes vary: no per-shape memory plan
        self.path = path
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def __call__(self, x):
        return self.session.run(None, {"bgr": x})[0][0, 0]
