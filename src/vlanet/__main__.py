import sys

from vlanet.cli import main

sys.exit(main())
