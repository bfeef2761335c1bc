"""Bad usage and bad input end the command with exit status 2 and one line on stderr."""

import argparse
import sys

EXIT_BAD_INPUT = 2


class InputError(Exception):
    """A problem with the user's command line or data, reported as one line, exit status 2."""


class OneLineParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose usage errors are one line (``prog: error: ...``), exit 2."""

    def error(self, message):
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def report_and_exit_code(prog, err):
    """Print ``err`` as one line on stderr and return the exit status for bad input."""
    message = " ".join(str(err).split())  # one line, whatever the message held
    print(f"{prog}: error: {message}", file=sys.stderr)
    return EXIT_BAD_INPUT
