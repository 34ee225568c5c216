"""The SimPy model: one module per mechanism (market, marketing, handoff, sales, retention) plus the reps'
calendar, the random streams and the `World` that wires them into one run. Imports nothing above it."""
