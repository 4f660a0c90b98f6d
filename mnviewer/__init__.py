"""mnviewer: live MobileNet classification and a full-convolution speed comparison."""

__version__ = "0.1.0"
