"""Demo and synthetic data, generated beside the app entry: the demo (demo/) and province-scale load (synthetic/)."""
