"""The one exception type users see.

Every failure a user can fix (a bad file, a bad name, a missing model, no token) is raised as
:class:`UserError` with a one-line message that names the file, line or field and says what to
do. The CLI prints it and exits with code 2; the UI shows it as a page message. Anything else is
a bug and keeps its traceback.
"""


class UserError(Exception):
    """A problem the user can fix; its message is shown as is, on one line."""

    exit_code = 2

    def __init__(self, message: str):
        super().__init__(" ".join(str(message).split()))
