from quadtui.cli import entry

entry()
