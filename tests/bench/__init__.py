import testkit  # noqa: F401  (puts lambda/shared on sys.path: the handlers' payment_core, as in the layer)
