"""The model room: everything that turns a file into a built, runnable model.

- catalog: the known models (models/catalog.json) and the user's imported ones
- fetch: pinned source files from cache, bundle, mirror or URL, sha256-checked
- importer: reading a user's .tflite, .onnx or OpenVINO IR into a model description
- graph, convnet: graph rewriting (I/O, weight folding, int8, fp32, full-convolution twin)
- builder: descriptions into OpenVINO IR in the cache, per precision
- stats: MACs and parameters counted from a graph
"""
