"""fastmlp export MODEL.fmlp OUT.onnx [--opset N]: the model as an ONNX file for onnxruntime."""
from __future__ import annotations

import argparse

from .. import load
from .common import check_writable_target, say
from .options import bounded, common_options

# Kept equal to fastmlp.onnx's DEFAULT_OPSET and MIN_OPSET, which need the onnx package to import.
DEFAULT_OPSET = 17
MIN_OPSET = 13

opset_number = bounded(int, lambda value: value >= MIN_OPSET, f"an ONNX opset number >= {MIN_OPSET}")


def add_parser(subcommands: argparse._SubParsersAction) -> None:
    parser = subcommands.add_parser(
        "export", parents=[common_options(with_threads=False)], formatter_class=argparse.RawDescriptionHelpFormatter,
        help="write a model as an ONNX file (for onnxruntime)",
        description="Write the model of MODEL.fmlp (a Sequential, with its stored standardiser, or an estimator) "
                    "as an ONNX graph that onnxruntime runs from C, C++, C#, Java, JavaScript or Python: input X, "
                    "outputs named as skl2onnx names them. Needs the onnx extra: pip install 'fastmlp[onnx]'.",
        epilog="examples:\n  fastmlp export model.fmlp model.onnx\n  fastmlp export model.fmlp model.onnx --opset 18\n"
               "  fastmlp info model.onnx\n")
    parser.add_argument("model", metavar="MODEL.fmlp")
    parser.add_argument("out", metavar="OUT.onnx")
    parser.add_argument("--opset", type=opset_number, default=DEFAULT_OPSET, metavar="N",
                        help=f"ONNX opset of the file (default {DEFAULT_OPSET}, IR version 8, which onnxruntime "
                             "releases since 1.12 load)")


def command_export(args: argparse.Namespace) -> int:
    check_writable_target(args.out, "the ONNX file")
    model = load(args.model)
    from .. import onnx as fastmlp_onnx  # the onnx extra: an ImportError that names it when it is missing

    proto = fastmlp_onnx.export(model, args.out, opset=args.opset)
    say(f"wrote {args.out}: the {type(model).__name__} of {args.model} as ONNX opset {args.opset} "
        f"(IR version {proto.ir_version})")
    for line in fastmlp_onnx.describe(proto).splitlines():
        if line.startswith(("inputs:", "outputs:")):
            say(line)
    say(f"next:\n  fastmlp info {args.out}")
    return 0
