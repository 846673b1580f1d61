"""Autograd made visible. lesson.py holds the Graph lesson in plain PyTorch and the run that watches it; the
instruments watch from outside: the op journal (a TorchFunctionMode), hooks on grad_fn nodes (backward.tracing).
node.py describes a grad_fn node once, walk.py walks the graph once; graph*.py draw it (SVG, DOT). The Graph page
reads its widgets' specs from controls.py and what it shows from views.py; session.py and steps.py hold its state."""
