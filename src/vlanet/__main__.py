"""The ``vlanet`` command (``python -m vlanet`` and the installed script both call ``run``)."""

import sys

from vlanet.utils import interrupts


def run() -> None:
    interrupts.exit_at_once()  # a Ctrl-C while the command line loads: exit 130, one line
    from vlanet.cli import main

    try:
        code = main()
    except SystemExit as e:  # argparse: --help, --version, a usage error
        code = e.code
    except KeyboardInterrupt:  # landed in main's own clean-up, outside its handler
        print("vlanet: interrupted", file=sys.stderr)
        code = 130
    interrupts.exit_now(code)


if __name__ == "__main__":
    run()
