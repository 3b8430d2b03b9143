"""The work behind the commands: what each command line module hands its checked options to."""
