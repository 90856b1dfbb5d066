"""Inference: the joint Gaussian of linear Gaussian networks and Gaussian conditioning."""

from pgm.inference.gaussian import MultivariateNormal, joint_gaussian, kl_divergence

__all__ = ["MultivariateNormal", "joint_gaussian", "kl_divergence"]
