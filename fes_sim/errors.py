"""Exception hierarchy of :mod:`fes_sim`.

Every error a user can cause derives from :class:`FesError`; the CLI turns it
into one line on stderr and exit code 2.
"""


class FesError(Exception):
    """Base class of every error raised on purpose by fes_sim."""


class ConfigError(FesError, ValueError):
    """A configuration file or value is missing, malformed or out of range."""


class SafetyLimitError(ConfigError):
    """A stimulation setting exceeds a configured safety limit."""


class RecordingError(FesError, ValueError):
    """A recording file cannot be read: missing column, bad value, bad header."""


class OutputError(FesError, OSError):
    """An output location cannot be written."""
