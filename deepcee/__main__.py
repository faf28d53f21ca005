import sys

from deepcee.cli import main

sys.exit(main())
