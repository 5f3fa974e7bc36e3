"""The lab: the post's cluster as real SSH hosts in Linux namespaces on one machine."""

from lab.lab import Lab, LabError

__all__ = ["Lab", "LabError"]
