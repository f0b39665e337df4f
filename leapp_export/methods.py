"""Export methods accepted by Isaac Lab's exporter and by leapp 0.7.2 (kept import-light for the CLI)."""

EXPORT_METHODS = ("onnx-dynamo", "onnx-torchscript", "jit-script", "jit-trace", "pt2")
