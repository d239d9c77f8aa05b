"""The thin shell: parse options, call the core, render, choose the exit code."""
