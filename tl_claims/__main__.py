import sys

from tl_claims.cli import main

sys.exit(main())
