"""Bad-input suite: case files in files/, the table in test_bad_inputs.py."""
