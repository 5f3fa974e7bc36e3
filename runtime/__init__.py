"""What a run of the tool shares beyond pyinfra's own: the patches it applies to pyinfra,
held to the exact version they were read from."""
