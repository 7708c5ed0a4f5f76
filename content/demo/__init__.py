"""Demo content: a fictional community (幸福里社区) generated for any day, see `generate`."""
