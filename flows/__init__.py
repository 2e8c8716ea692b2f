"""Prefect flows, the tasks they run, and the newsdex command line."""
