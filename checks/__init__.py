"""Executable checks of the claims of Gao & Gao (arXiv 2209.15562), one module per claim family."""
