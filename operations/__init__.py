"""Custom pyinfra operations: each reads its resource's verdict and yields only what differs."""
