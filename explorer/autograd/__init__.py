"""Autograd made visible: expressions, the op journal, the graph model and its DOT, backward tracing, gradcheck."""
