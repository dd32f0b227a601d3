"""One module per function (``payment_core.handlers.<function>.handler``): its environment, its wiring, its handler."""
