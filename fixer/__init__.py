"""tighten: find and fix security mistakes in Dockerfiles and Kubernetes manifests."""

__version__ = "0.1.0"
