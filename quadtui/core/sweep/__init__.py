"""Sweeps: one run per value (or pair of values) of a setting, many trained as one model.

The rule everything here keeps: **every member is bit for bit its single run.**
``Sweep(base, "lr", values).run()`` gives member *k* exactly what
``Engine(base.replace(lr=values[k])).run()`` gives — the same data, the same initial
weights, the same float operations in the same order, hence the same losses at every
epoch.  A batched kernel does not always do the float operations the single run's
kernel does on the member's own shapes (BLAS picks kernels and summation orders by
shape, torch's reductions and vector loops by width), so members are laid out to
reproduce the single run's orders where those are known and *probed* when the batch is
built where they are not: a member the probe catches trains alone, with the engine.
The guarantee is checked, not assumed (``tests/test_sweep.py``; ``docs/sweeps.md`` has
the measured rules).

The modules, from the outside in:

* ``spec`` — ``--sweep PARAM=VALUES`` parsed into values (no torch: the command line
  checks a sweep before anything loads);
* ``grid`` — two settings at once, one run per pair;
* ``runner`` — :class:`~quadtui.core.sweep.runner.Sweep` and ``GridSweep``: groups the
  members, trains each group, reports progress and results;
* ``layout`` — which members can share a wide model, and how its columns are laid out;
* ``wide`` — ``WideMLP``: one hidden layer, every member's units side by side, one
  kernel call per op for all of them;
* ``batched`` — ``BatchedMLP``: deeper full-batch nets, per-member matrix products;
* ``optim`` — the optimizers' update rules for many members at once;
* ``exact`` — the build-time probes that send a member whose numbers would differ to
  train alone.

Nothing is imported here, so ``quadtui.core.sweep.spec`` stays free of torch.
"""
