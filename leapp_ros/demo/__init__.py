"""The sim-to-sim demo: the MuJoCo reach arm driven by the deployed demo policy through the real node."""
