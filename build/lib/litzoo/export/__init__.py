"""``litzoo export CKPT --format onnx|pt2|torchscript``: a checkpoint's net for inference without litzoo."""
