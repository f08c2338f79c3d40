import hypothesis

# Property tests draw the same examples on every run, so a failure in CI
# reproduces locally; deadlines are off because a loaded 2-core machine is slow.
hypothesis.settings.register_profile("xentref", derandomize=True, deadline=None)
hypothesis.settings.load_profile("xentref")
