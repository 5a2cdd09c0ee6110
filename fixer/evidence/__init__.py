"""Evidence for behaviour-changing fixes: what is known about images and the repository."""
