import sys

from ipv2.cli.main import main

sys.exit(main())
