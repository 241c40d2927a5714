"""One error type for unusable input, with a message a clerk can act on."""


class InputError(Exception):
    """Input the run cannot use: a missing file or column, an unknown policy or region,
    an incomplete extract. The message is one line and names what to fix."""


class GateFailed(Exception):
    """A validation gate failed: no payment file is written for the region."""
