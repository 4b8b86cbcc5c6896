from guardrail.cli import main

raise SystemExit(main())
