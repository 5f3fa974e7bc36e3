"""Custom pyinfra facts: each reads one resource's actual state and parses it, nothing else."""
