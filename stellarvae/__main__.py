import sys

from stellarvae.cli import main

sys.exit(main())
