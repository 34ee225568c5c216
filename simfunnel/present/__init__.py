"""Presentation layer: what turns simulation results into documents and figures for people (the client report,
figures, slides), on top of `simfunnel.vocabulary` and `simfunnel.formatting`."""
