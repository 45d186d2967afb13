from quadtui.cli import main

raise SystemExit(main())
