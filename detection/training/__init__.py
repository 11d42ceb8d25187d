"""Training and export of the scream detector: the only package that imports torch and torchvision."""
