"""Asks the app's window to close the way a window manager does when the user clicks its close
button: a WM_DELETE_WINDOW client message (WebDriver's "close window" bypasses the app).

    python close-window.py TITLE

Run by the end-to-end tests (python-xlib comes with tests/fixtures/fetch.sh).
"""
import sys

from Xlib import X, display
from Xlib.protocol import event

title = sys.argv[1]
d = display.Display()
delete = d.intern_atom("WM_DELETE_WINDOW")
protocols = d.intern_atom("WM_PROTOCOLS")


def find(window):
    try:
        if window.get_wm_name() == title and delete in (window.get_wm_protocols() or []):
            return window
        children = window.query_tree().children
    except Exception:
        return None
    for child in children:
        found = find(child)
        if found:
            return found
    return None


window = find(d.screen().root)
if window is None:
    raise SystemExit(f"no window titled {title!r}")
window.send_event(event.ClientMessage(window=window, client_type=protocols, data=(32, [delete, X.CurrentTime, 0, 0, 0])))
d.flush()
print("close requested")
