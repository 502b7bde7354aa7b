"""The error every command reports in one line instead of a traceback."""


class UserError(Exception):
    """What the user handed a command cannot be used; the message names the problem and the fix.

    The package's own errors about inputs (bags, model folders, data sets, checkpoints, engines)
    derive from it, so each command refuses them the same way (:mod:`htt_ros.tools.cli`).
    """
