"""antlm: data-efficient LM pretraining by alternating causal and masked language modelling."""

__version__ = "0.1.0"
