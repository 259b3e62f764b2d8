"""The learned models (torch ``nn.Module`` only): VQ-GAN, frame transformer, encoders.

Everything here imports torch; nothing on the analysis or flow-render path imports
this package. Weights are read and written by :mod:`douga.models.io`.
"""
