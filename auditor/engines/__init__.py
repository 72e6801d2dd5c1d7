"""Execution engines for the heavy stages of an audit beside the local one (imported only when chosen)."""
