"""Autograd mechanics beyond the seeds: the errors learners hit, hooks, higher order, custom Functions, anomaly
mode, gradient flow."""
